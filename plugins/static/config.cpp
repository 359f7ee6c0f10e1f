#include "plugins/static/config.hpp"

#include "cni/args.hpp"
#include "cni/json_fields.hpp"
#include "ipam/config_fields.hpp"

namespace tether::staticipam {

using nlohmann::json;
namespace fields = cni::fields;

namespace {

// An address must carry its prefix length: "10.0.0.5/24", never "10.0.0.5".
Expected<net::IpPrefix> parseCidr(std::string_view text, const std::string& where, Code code) {
    if (auto p = net::IpPrefix::parse(text)) return *p;
    std::string why = text.find('/') == std::string_view::npos ? "missing prefix length"
                                                               : "not an address/prefix";
    return fail(code, where + ": invalid CIDR \"" + std::string(text) + "\": " + why);
}

Expected<std::vector<StaticAddress>> parseAddresses(const json& ipam) {
    std::vector<StaticAddress> out;
    const json* list = TRY(fields::optArray(ipam, "addresses", "ipam"));
    if (!list) return out;
    for (size_t i = 0; i < list->size(); ++i) {
        const std::string path = ipam::indexedPath("ipam.addresses", i);
        const json& a = (*list)[i];
        if (!a.is_object()) return fields::typeError(path, "an object");
        auto text = TRY(fields::optString(a, "address", path));
        if (!text) return fail(Code::InvalidConfig, path + ".address: missing");
        StaticAddress sa{TRY(parseCidr(*text, path + ".address", Code::InvalidConfig)), {}};
        if (auto gw = TRY(fields::optString(a, "gateway", path)); gw && !gw->empty()) {
            auto ip = net::IpAddress::parse(*gw);
            if (!ip)
                return fail(Code::InvalidConfig,
                            path + ".gateway: invalid IP address \"" + *gw + "\"");
            sa.gateway = *ip;
        }
        out.push_back(sa);
    }
    return out;
}

// CNI_ARGS IP (appended to the configured addresses) and GATEWAY (given to those CNI_ARGS
// addresses whose subnet contains it; the configured ones keep their own, as in the reference).
Status applyCniArgs(std::string_view cniArgs, std::vector<StaticAddress>& addrs) {
    auto pairs = TRY(cni::parseCniArgs(cniArgs, {"IP", "GATEWAY"}));
    const size_t firstFromArgs = addrs.size();
    if (const std::string* ip = cni::findArg(pairs, "IP"); ip && !ip->empty())
        for (std::string_view item : ipam::splitArgList(*ip))
            addrs.push_back({TRY(parseCidr(item, "CNI_ARGS IP", Code::InvalidEnv)), {}});
    if (const std::string* gw = cni::findArg(pairs, "GATEWAY"); gw && !gw->empty())
        for (std::string_view item : ipam::splitArgList(*gw)) {
            auto ip = net::IpAddress::parse(item);
            if (!ip)
                return fail(Code::InvalidEnv, "CNI_ARGS GATEWAY: invalid gateway address \"" +
                                                  std::string(item) + "\"");
            for (size_t i = firstFromArgs; i < addrs.size(); ++i)
                if (addrs[i].address.contains(*ip)) addrs[i].gateway = *ip;
        }
    return {};
}

// args.cni.ips / runtimeConfig.ips as addresses (no gateways).
Expected<std::vector<StaticAddress>> handedAddresses(const ipam::HandedIps& list) {
    std::vector<StaticAddress> out;
    for (size_t i = 0; i < list.ips.size(); ++i)
        out.push_back(
            {TRY(parseCidr(list.ips[i], ipam::indexedPath(fields::join(list.path, "ips"), i),
                           Code::InvalidConfig)),
             {}});
    return out;
}

} // namespace

Expected<Config> parseConfig(const json& raw, std::string_view cniVersion,
                             std::string_view cniArgs) {
    const json* ipamObj = TRY(ipam::ipamSection(raw));
    Config cfg;
    cfg.addresses = TRY(parseAddresses(*ipamObj));
    TRY(applyCniArgs(cniArgs, cfg.addresses));
    // A non-empty args.cni.ips, then runtimeConfig.ips, replaces every address so far.
    for (const auto& list : TRY(ipam::handedIps(raw)))
        if (!list.ips.empty()) cfg.addresses = TRY(handedAddresses(list));

    size_t v4 = 0, v6 = 0;
    for (const auto& a : cfg.addresses)
        (a.address.family() == net::Family::V4 ? v4 : v6)++;
    TRY(ipam::checkOnePerFamily(v4, v6, cniVersion));
    cfg.routes = TRY(ipam::parseRoutes(*ipamObj));
    if (const json* dns = TRY(fields::optObject(*ipamObj, "dns", "ipam"))) {
        auto d = cni::parseDns(*dns);
        if (!d) return std::unexpected(d.error().wrap("ipam.dns"));
        cfg.dns = std::move(*d);
    }
    return cfg;
}

} // namespace tether::staticipam
