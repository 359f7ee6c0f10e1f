#include "plugins/host-local/config.hpp"

#include "cni/args.hpp"
#include "cni/json_fields.hpp"
#include "cni/version.hpp"

namespace tether::hostlocal {

using nlohmann::json;
namespace fields = cni::fields;

namespace {

std::string at(std::string_view prefix, size_t i) {
    return std::string(prefix) + "[" + std::to_string(i) + "]";
}

Expected<ipam::RangeSpec> parseRangeSpec(const json& j, const std::string& path) {
    if (!j.is_object()) return fields::typeError(path, "an object");
    ipam::RangeSpec spec;
    spec.subnet = TRY(fields::optString(j, "subnet", path)).value_or("");
    spec.rangeStart = TRY(fields::optString(j, "rangeStart", path));
    spec.rangeEnd = TRY(fields::optString(j, "rangeEnd", path));
    spec.gateway = TRY(fields::optString(j, "gateway", path));
    return spec;
}

struct PendingSet {
    std::vector<ipam::RangeSpec> specs;
    std::string path;
    bool legacy = false; ///< the single range written directly in "ipam"
};

// A JSON list of range sets (each a list of ranges).
Expected<std::vector<PendingSet>> parseRangeSets(const json& obj, std::string_view key,
                                                 std::string_view prefix) {
    std::vector<PendingSet> out;
    const json* list = TRY(fields::optArray(obj, key, prefix));
    if (!list) return out;
    const std::string base = fields::join(prefix, key);
    for (size_t i = 0; i < list->size(); ++i) {
        const json& set = (*list)[i];
        PendingSet p{{}, at(base, i)};
        if (!set.is_array()) return fields::typeError(p.path, "a list of ranges");
        for (size_t j = 0; j < set.size(); ++j)
            p.specs.push_back(TRY(parseRangeSpec(set[j], at(p.path, j))));
        out.push_back(std::move(p));
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
        if (!prefix) return fail(Code::InvalidConfig, path + ".dst: invalid CIDR address: " + *dst);
        route.dst = prefix->str();
        if (auto gw = TRY(fields::optString(r, "gw", path))) {
            auto a = net::IpAddress::parse(*gw);
            if (!a) return fail(Code::InvalidConfig, path + ".gw: invalid IP address: " + *gw);
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

// "10.0.0.5" or "10.0.0.5/24" (the prefix is ignored, as the reference's ip.IP does).
std::optional<net::IpAddress> parseRequested(std::string_view text) {
    if (auto p = net::IpPrefix::parseLenient(text)) return p->address();
    return std::nullopt;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

Expected<std::vector<net::IpAddress>> requestedAddresses(const json& raw,
                                                         std::string_view cniArgs) {
    std::vector<net::IpAddress> out;
    auto pairs = TRY(cni::parseCniArgs(cniArgs, {"IP"}));
    if (const std::string* ip = cni::findArg(pairs, "IP")) {
        std::string_view rest = *ip;
        while (true) {
            auto comma = rest.find(',');
            std::string_view item = trim(rest.substr(0, comma));
            auto a = parseRequested(item);
            if (!a)
                return fail(Code::InvalidEnv,
                            "CNI_ARGS IP: invalid IP \"" + std::string(item) + "\"");
            out.push_back(*a);
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
    }
    auto addList = [&](const json& obj, std::string_view prefix) -> Status {
        for (const std::string& s : TRY(fields::optStringList(obj, "ips", prefix))) {
            auto a = parseRequested(s);
            if (!a)
                return fail(Code::InvalidConfig,
                            fields::join(prefix, "ips") + ": invalid IP \"" + s + "\"");
            out.push_back(*a);
        }
        return {};
    };
    if (const json* args = TRY(fields::optObject(raw, "args", "")))
        if (const json* cniArgsObj = TRY(fields::optObject(*args, "cni", "args")))
            TRY(addList(*cniArgsObj, "args.cni"));
    if (const json* rc = TRY(fields::optObject(raw, "runtimeConfig", "")))
        TRY(addList(*rc, "runtimeConfig"));
    return out;
}

} // namespace

Expected<Config> parseConfig(const json& raw, std::string_view cniVersion,
                             std::string_view cniArgs) {
    if (!raw.is_object()) return fields::typeError("network config", "an object");
    Config cfg;
    cfg.cniVersion = std::string(cniVersion);
    cfg.name = TRY(fields::optString(raw, "name", "")).value_or("");
    const json* ipam = TRY(fields::optObject(raw, "ipam", ""));
    if (!ipam) return fail(Code::InvalidConfig, "IPAM config missing 'ipam' key");

    cfg.requested = TRY(requestedAddresses(raw, cniArgs));

    std::vector<PendingSet> pending;
    if (const json* rc = TRY(fields::optObject(raw, "runtimeConfig", "")))
        pending = TRY(parseRangeSets(*rc, "ipRanges", "runtimeConfig"));
    auto legacy = TRY(parseRangeSpec(*ipam, "ipam"));
    if (!legacy.subnet.empty()) pending.push_back({{legacy}, "ipam", true});
    for (auto& p : TRY(parseRangeSets(*ipam, "ranges", "ipam")))
        pending.push_back(std::move(p));
    if (pending.empty())
        return fail(Code::InvalidConfig, "no IP ranges specified",
                    "set ipam.ranges (or ipam.subnet, or runtimeConfig.ipRanges)");

    size_t v4 = 0, v6 = 0;
    for (size_t i = 0; i < pending.size(); ++i) {
        // The legacy single range lives directly in "ipam": name its keys "ipam.subnet" etc.
        Expected<ipam::RangeSet> set = ipam::RangeSet{};
        if (pending[i].legacy) {
            auto r = ipam::canonicalizeRange(pending[i].specs[0], "ipam");
            if (r)
                set->push_back(*r);
            else
                set = std::unexpected(r.error());
        } else {
            set = ipam::canonicalizeRangeSet(pending[i].specs, pending[i].path);
        }
        if (!set)
            return std::unexpected(set.error().wrap("invalid range set " + std::to_string(i)));
        (set->front().subnet.family() == net::Family::V4 ? v4 : v6)++;
        cfg.rangeSets.push_back(std::move(*set));
    }
    if ((v4 > 1 || v6 > 1) && cni::compareVersions(cniVersion, "0.3.0") < 0)
        return fail(Code::InvalidConfig, "CNI version " + std::string(cniVersion) +
                                             " does not support more than 1 address per family");
    for (size_t i = 0; i < cfg.rangeSets.size(); ++i)
        for (size_t j = i + 1; j < cfg.rangeSets.size(); ++j)
            if (ipam::setsOverlap(cfg.rangeSets[i], cfg.rangeSets[j]))
                return fail(Code::InvalidConfig,
                            "range set " + std::to_string(i) + " overlaps with " +
                                std::to_string(j),
                            pending[i].path + " and " + pending[j].path + " share addresses");

    cfg.routes = TRY(parseRoutes(*ipam));
    if (auto d = TRY(fields::optString(*ipam, "dataDir", "ipam")); d && !d->empty())
        cfg.dataDir = *d;
    cfg.resolvConf = TRY(fields::optString(*ipam, "resolvConf", "ipam")).value_or("");
    return cfg;
}

Expected<Config> parseStoreLocation(const json& raw, std::string_view cniVersion) {
    if (!raw.is_object()) return fields::typeError("network config", "an object");
    Config cfg;
    cfg.cniVersion = std::string(cniVersion);
    cfg.name = TRY(fields::optString(raw, "name", "")).value_or("");
    const json* ipam = TRY(fields::optObject(raw, "ipam", ""));
    if (!ipam) return fail(Code::InvalidConfig, "IPAM config missing 'ipam' key");
    if (auto d = TRY(fields::optString(*ipam, "dataDir", "ipam")); d && !d->empty())
        cfg.dataDir = *d;
    return cfg;
}

} // namespace tether::hostlocal
