#include "cni/conf_fields.hpp"
#include "cni/json_fields.hpp"
#include "plugins/portmap/portmap.hpp"

namespace tether::portmap {

std::string Mapping::text() const {
    return (hostIP ? hostIP->str() + ":" : std::string()) + std::to_string(hostPort) + "/" +
           protocol + " -> " + std::to_string(containerPort);
}

namespace {

Expected<Mapping> parseMapping(const nlohmann::json& e, const std::string& where) {
    if (!e.is_object()) return cni::fields::typeError(where, "an object");
    Mapping m;
    auto port = [&](const char* key) -> Expected<int> {
        auto v = TRY(cni::fields::optInt(e, key, where));
        if (!v || *v < 1 || *v > 65535)
            return fail(Code::InvalidConfig,
                        "invalid " + where + "." + key + " " +
                            (v ? std::to_string(*v) : std::string("(missing)")) +
                            ": must be between 1 and 65535");
        return int(*v);
    };
    m.hostPort = TRY(port("hostPort"));
    m.containerPort = TRY(port("containerPort"));
    if (auto p = TRY(cni::fields::optString(e, "protocol", where))) {
        m.protocol = *p;
        for (char& c : m.protocol)
            c = char(std::tolower(static_cast<unsigned char>(c)));
    }
    if (m.protocol.empty()) m.protocol = "tcp";
    if (m.protocol != "tcp" && m.protocol != "udp" && m.protocol != "sctp")
        return fail(Code::InvalidConfig, "invalid " + where + ".protocol \"" + m.protocol +
                                             "\": must be tcp, udp or sctp");
    if (auto h = TRY(cni::fields::optString(e, "hostIP", where)); h && !h->empty()) {
        auto ip = net::IpAddress::parse(*h);
        if (!ip)
            return fail(Code::InvalidConfig,
                        "invalid " + where + ".hostIP \"" + *h + "\": not an IP address");
        m.family = ip->family(); // 0.0.0.0: every IPv4 address; ::: every IPv6 address
        if (!ip->isUnspecified()) m.hostIP = *ip;
    }
    return m;
}

// conditionsV4/V6: tokens, style, and (for the nftables backend) the match they translate to.
Expected<Conditions> parseConditions(const nlohmann::json& raw, const std::string& key,
                                     net::Family family, const std::string& backend) {
    Conditions c;
    c.tokens = TRY(cni::fields::optStringList(raw, key, ""));
    if (c.tokens.empty()) return c;
    c.nftStyle = !c.tokens[0].starts_with("-") && !c.tokens[0].starts_with("!");
    for (const auto& t : c.tokens)
        if (!c.nftStyle && (t.empty() || t.find_first_of(" \t\n\r\"';") != std::string::npos))
            return fail(Code::InvalidConfig, "invalid " + key + " token \"" + t +
                                                 "\": empty, or has whitespace, quotes or ';'");
    if (c.nftStyle) {
        if (backend == "iptables")
            return fail(Code::InvalidConfig, "backend \"iptables\" was requested but " + key +
                                                 " holds nftables-style conditions");
        for (const auto& t : c.tokens) {
            if (t.find_first_of(";\n\r") != std::string::npos)
                return fail(Code::InvalidConfig, "invalid " + key + " token \"" + t +
                                                     "\": ';' and line breaks are not allowed");
            c.nft += (c.nft.empty() ? "" : " ") + t;
        }
        return c;
    }
    if (backend != "iptables") c.nft = TRY(translateConditions(c.tokens, family, key));
    return c;
}

} // namespace

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const auto& raw = args.conf.raw;
    Config c;
    c.snat = TRY(cni::fields::boolField(raw, "snat", true));
    c.masqAll = TRY(cni::fields::boolField(raw, "masqAll", false));
    if (auto b = TRY(cni::fields::optString(raw, "backend", ""))) c.backend = *b;
    TRY(nat::parseBackend(c.backend, "backend"));
    auto bit = TRY(cni::fields::optInt(raw, "markMasqBit", ""));
    auto chain = TRY(cni::fields::optString(raw, "externalSetMarkChain", ""));
    if (bit && chain)
        return fail(Code::InvalidConfig, "cannot specify externalSetMarkChain and markMasqBit");
    if (bit && (*bit < 0 || *bit > 31))
        return fail(Code::InvalidConfig,
                    "invalid markMasqBit " + std::to_string(*bit) + ": must be between 0 and 31");
    if (bit) c.markMasqBit = int(*bit);
    if (chain) {
        if (chain->empty() || chain->size() > 28 ||
            chain->find_first_of(" \t\n\r\"';") != std::string::npos)
            return fail(Code::InvalidConfig, "invalid externalSetMarkChain \"" + *chain +
                                                 "\": not an iptables chain name");
        if (c.backend == "nftables")
            return fail(Code::InvalidConfig,
                        "backend \"nftables\" was requested but externalSetMarkChain is "
                        "an iptables-only key");
        c.externalSetMarkChain = *chain;
    }
    // Untranslatable iptables tokens fail here unless iptables is named (the automatic choice is
    // nftables wherever nftables is usable, and then they could not be honoured).
    c.cond4 = TRY(parseConditions(raw, "conditionsV4", net::Family::V4,
                                  c.externalSetMarkChain.empty() ? c.backend : "iptables"));
    c.cond6 = TRY(parseConditions(raw, "conditionsV6", net::Family::V6,
                                  c.externalSetMarkChain.empty() ? c.backend : "iptables"));
    const nlohmann::json* list =
        TRY(cni::fields::optArray(args.conf.runtimeConfig, "portMappings", "runtimeConfig"));
    if (!list) return c;
    for (size_t i = 0; i < list->size(); ++i) {
        std::string where = "runtimeConfig.portMappings[" + std::to_string(i) + "]";
        Mapping m = TRY(parseMapping((*list)[i], where));
        for (const auto& other : c.mappings) {
            bool sameHost = other.hostIP == m.hostIP &&
                            (!other.family || !m.family || other.family == m.family);
            if (sameHost && other.hostPort == m.hostPort && other.protocol == m.protocol)
                return fail(Code::InvalidConfig,
                            "conflicting port mappings: " + other.text() + " and " + m.text());
        }
        c.mappings.push_back(m);
    }
    return c;
}

} // namespace tether::portmap
