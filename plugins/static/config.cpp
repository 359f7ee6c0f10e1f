#include "plugins/static/config.hpp"

#include "cni/args.hpp"
#include "cni/json_fields.hpp"
#include "cni/version.hpp"

namespace tether::staticipam {

using nlohmann::json;
namespace fields = cni::fields;

namespace {

std::string at(std::string_view prefix, size_t i) {
    return std::string(prefix) + "[" + std::to_string(i) + "]";
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// Splits "a, b,c" on commas, trimming blanks around each item.
std::vector<std::string_view> commaList(std::string_view s) {
    std::vector<std::string_view> out;
    while (true) {
        auto comma = s.find(',');
        out.push_back(trim(s.substr(0, comma)));
        if (comma == std::string_view::npos) return out;
        s.remove_prefix(comma + 1);
    }
}

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
        const std::string path = at("ipam.addresses", i);
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
        out.push_back(std::move(sa));
    }
    return out;
}

Expected<std::vector<cni::Route>> parseRoutes(const json& ipam) {
    std::vector<cni::Route> out;
    const json* list = TRY(fields::optArray(ipam, "routes", "ipam"));
    if (!list) return out;
    for (size_t i = 0; i < list->size(); ++i) {
        const std::string path = at("ipam.routes", i);
        const json& r = (*list)[i];
        if (!r.is_object()) return fields::typeError(path, "an object");
        cni::Route route;
        auto dst = TRY(fields::optString(r, "dst", path));
        if (!dst) return fail(Code::InvalidConfig, path + ".dst: missing");
        auto prefix = net::IpPrefix::parse(*dst);
        if (!prefix) return fail(Code::InvalidConfig, path + ".dst: invalid CIDR \"" + *dst + "\"");
        route.dst = prefix->str();
        if (auto gw = TRY(fields::optString(r, "gw", path)); gw && !gw->empty()) {
            auto a = net::IpAddress::parse(*gw);
            if (!a)
                return fail(Code::InvalidConfig, path + ".gw: invalid IP address \"" + *gw + "\"");
            route.gw = a->str();
        }
        auto optInt = [&](const char* key) -> Expected<std::optional<int>> {
            auto v = TRY(fields::optInt(r, key, path));
            if (!v) return std::optional<int>{};
            return std::optional<int>(int(*v));
        };
        route.mtu = TRY(optInt("mtu"));
        route.advmss = TRY(optInt("advmss"));
        route.priority = TRY(optInt("priority"));
        route.table = TRY(optInt("table"));
        route.scope = TRY(optInt("scope"));
        out.push_back(std::move(route));
    }
    return out;
}

// CNI_ARGS IP (appended to the configured addresses) and GATEWAY (given to those CNI_ARGS
// addresses whose subnet contains it; the configured ones keep their own, as in the reference).
Status applyCniArgs(std::string_view cniArgs, std::vector<StaticAddress>& addrs) {
    auto pairs = TRY(cni::parseCniArgs(cniArgs, {"IP", "GATEWAY"}));
    const size_t firstFromArgs = addrs.size();
    if (const std::string* ip = cni::findArg(pairs, "IP"); ip && !ip->empty())
        for (std::string_view item : commaList(*ip))
            addrs.push_back({TRY(parseCidr(item, "CNI_ARGS IP", Code::InvalidEnv)), {}});
    if (const std::string* gw = cni::findArg(pairs, "GATEWAY"); gw && !gw->empty())
        for (std::string_view item : commaList(*gw)) {
            auto ip = net::IpAddress::parse(item);
            if (!ip)
                return fail(Code::InvalidEnv, "CNI_ARGS GATEWAY: invalid gateway address \"" +
                                                  std::string(item) + "\"");
            for (size_t i = firstFromArgs; i < addrs.size(); ++i)
                if (addrs[i].address.contains(*ip)) addrs[i].gateway = *ip;
        }
    return {};
}

// args.cni.ips / runtimeConfig.ips: when non-empty, the whole address list (no gateways).
Expected<std::optional<std::vector<StaticAddress>>> ipsList(const json& obj,
                                                            std::string_view prefix) {
    auto list = TRY(fields::optStringList(obj, "ips", prefix));
    if (list.empty()) return std::optional<std::vector<StaticAddress>>{};
    std::vector<StaticAddress> out;
    for (size_t i = 0; i < list.size(); ++i)
        out.push_back(
            {TRY(parseCidr(list[i], at(fields::join(prefix, "ips"), i), Code::InvalidConfig)), {}});
    return std::optional(std::move(out));
}

} // namespace

Expected<Config> parseConfig(const json& raw, std::string_view cniVersion,
                             std::string_view cniArgs) {
    if (!raw.is_object()) return fields::typeError("network config", "an object");
    const json* ipam = TRY(fields::optObject(raw, "ipam", ""));
    if (!ipam) return fail(Code::InvalidConfig, "IPAM config missing 'ipam' key");
    Config cfg;
    cfg.addresses = TRY(parseAddresses(*ipam));
    TRY(applyCniArgs(cniArgs, cfg.addresses));
    if (const json* args = TRY(fields::optObject(raw, "args", "")))
        if (const json* a = TRY(fields::optObject(*args, "cni", "args")))
            if (auto list = TRY(ipsList(*a, "args.cni"))) cfg.addresses = std::move(*list);
    if (const json* rc = TRY(fields::optObject(raw, "runtimeConfig", "")))
        if (auto list = TRY(ipsList(*rc, "runtimeConfig"))) cfg.addresses = std::move(*list);

    size_t v4 = 0, v6 = 0;
    for (const auto& a : cfg.addresses)
        (a.address.family() == net::Family::V4 ? v4 : v6)++;
    if ((v4 > 1 || v6 > 1) && cni::compareVersions(cniVersion, "0.3.0") < 0)
        return fail(Code::InvalidConfig, "CNI version " + std::string(cniVersion) +
                                             " does not support more than 1 address per family");
    cfg.routes = TRY(parseRoutes(*ipam));
    if (const json* dns = TRY(fields::optObject(*ipam, "dns", "ipam"))) {
        auto d = cni::parseDns(*dns);
        if (!d) return std::unexpected(d.error().wrap("ipam.dns"));
        cfg.dns = std::move(*d);
    }
    return cfg;
}

} // namespace tether::staticipam
