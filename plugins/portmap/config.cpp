#include "cni/json_fields.hpp"
#include "plugins/iface/conf_fields.hpp"
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
            return fail(Code::InvalidConfig, "invalid " + where + "." + key + " " +
                                                 (v ? std::to_string(*v) : std::string("(missing)")) +
                                                 ": must be between 1 and 65535");
        return int(*v);
    };
    m.hostPort = TRY(port("hostPort"));
    m.containerPort = TRY(port("containerPort"));
    if (auto p = TRY(cni::fields::optString(e, "protocol", where))) {
        m.protocol = *p;
        for (char& c : m.protocol) c = char(std::tolower(static_cast<unsigned char>(c)));
    }
    if (m.protocol.empty()) m.protocol = "tcp";
    if (m.protocol != "tcp" && m.protocol != "udp" && m.protocol != "sctp")
        return fail(Code::InvalidConfig, "invalid " + where + ".protocol \"" + m.protocol +
                                             "\": must be tcp, udp or sctp");
    if (auto h = TRY(cni::fields::optString(e, "hostIP", where)); h && !h->empty()) {
        auto ip = net::IpAddress::parse(*h);
        if (!ip)
            return fail(Code::InvalidConfig, "invalid " + where + ".hostIP \"" + *h + "\": not an IP address");
        if (!ip->isUnspecified()) m.hostIP = *ip;
    }
    return m;
}

} // namespace

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const auto& raw = args.conf.raw;
    Config c;
    c.snat = TRY(plugin::boolField(raw, "snat", true));
    c.masqAll = TRY(plugin::boolField(raw, "masqAll", false));
    if (auto b = TRY(cni::fields::optString(raw, "backend", ""))) c.backend = TRY(nat::parseBackend(*b, "backend"));
    const nlohmann::json* list = TRY(cni::fields::optArray(args.conf.runtimeConfig, "portMappings",
                                                           "runtimeConfig"));
    if (!list) return c;
    for (size_t i = 0; i < list->size(); ++i) {
        std::string where = "runtimeConfig.portMappings[" + std::to_string(i) + "]";
        Mapping m = TRY(parseMapping((*list)[i], where));
        for (const auto& other : c.mappings) {
            bool sameHost = other.hostIP == m.hostIP;
            if (sameHost && other.hostPort == m.hostPort && other.protocol == m.protocol)
                return fail(Code::InvalidConfig, "conflicting port mappings: " + other.text() +
                                                     " and " + m.text());
        }
        c.mappings.push_back(m);
    }
    return c;
}

} // namespace tether::portmap
