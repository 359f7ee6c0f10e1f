#include "plugins/host-local/config.hpp"

#include "cni/args.hpp"
#include "cni/json_fields.hpp"
#include "ipam/config_fields.hpp"

namespace tether::hostlocal {

using nlohmann::json;
namespace fields = cni::fields;

namespace {

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
        PendingSet p{{}, ipam::indexedPath(base, i)};
        if (!set.is_array()) return fields::typeError(p.path, "a list of ranges");
        for (size_t j = 0; j < set.size(); ++j)
            p.specs.push_back(TRY(parseRangeSpec(set[j], ipam::indexedPath(p.path, j))));
        out.push_back(std::move(p));
    }
    return out;
}

// "10.0.0.5" or "10.0.0.5/24" (the prefix is ignored, as the reference's ip.IP does).
std::optional<net::IpAddress> parseRequested(std::string_view text) {
    if (auto p = net::IpPrefix::parseLenient(text)) return p->address();
    return std::nullopt;
}

Expected<std::vector<net::IpAddress>> requestedAddresses(const json& raw,
                                                         std::string_view cniArgs) {
    std::vector<net::IpAddress> out;
    auto pairs = TRY(cni::parseCniArgs(cniArgs, {"IP"}));
    if (const std::string* ip = cni::findArg(pairs, "IP"))
        for (std::string_view item : ipam::splitArgList(*ip)) {
            auto a = parseRequested(item);
            if (!a)
                return fail(Code::InvalidEnv,
                            "CNI_ARGS IP: invalid IP \"" + std::string(item) + "\"");
            out.push_back(*a);
        }
    for (const auto& list : TRY(ipam::handedIps(raw)))
        for (const std::string& s : list.ips) {
            auto a = parseRequested(s);
            if (!a)
                return fail(Code::InvalidConfig,
                            fields::join(list.path, "ips") + ": invalid IP \"" + s + "\"");
            out.push_back(*a);
        }
    return out;
}

} // namespace

Expected<Config> parseConfig(const json& raw, std::string_view cniVersion,
                             std::string_view cniArgs) {
    const json* ipamObj = TRY(ipam::ipamSection(raw));
    Config cfg;
    cfg.cniVersion = std::string(cniVersion);
    cfg.name = TRY(fields::optString(raw, "name", "")).value_or("");

    cfg.requested = TRY(requestedAddresses(raw, cniArgs));

    std::vector<PendingSet> pending;
    if (const json* rc = TRY(fields::optObject(raw, "runtimeConfig", "")))
        pending = TRY(parseRangeSets(*rc, "ipRanges", "runtimeConfig"));
    auto legacy = TRY(parseRangeSpec(*ipamObj, "ipam"));
    if (!legacy.subnet.empty()) pending.push_back({{legacy}, "ipam", true});
    for (auto& p : TRY(parseRangeSets(*ipamObj, "ranges", "ipam")))
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
    TRY(ipam::checkOnePerFamily(v4, v6, cniVersion));
    for (size_t i = 0; i < cfg.rangeSets.size(); ++i)
        for (size_t j = i + 1; j < cfg.rangeSets.size(); ++j)
            if (ipam::setsOverlap(cfg.rangeSets[i], cfg.rangeSets[j]))
                return fail(Code::InvalidConfig,
                            "range set " + std::to_string(i) + " overlaps with " +
                                std::to_string(j),
                            pending[i].path + " and " + pending[j].path + " share addresses");

    cfg.routes = TRY(ipam::parseRoutes(*ipamObj));
    if (auto d = TRY(fields::optString(*ipamObj, "dataDir", "ipam")); d && !d->empty())
        cfg.dataDir = *d;
    cfg.resolvConf = TRY(fields::optString(*ipamObj, "resolvConf", "ipam")).value_or("");
    return cfg;
}

Expected<Config> parseStoreLocation(const json& raw, std::string_view cniVersion) {
    const json* ipamObj = TRY(ipam::ipamSection(raw));
    Config cfg;
    cfg.cniVersion = std::string(cniVersion);
    cfg.name = TRY(fields::optString(raw, "name", "")).value_or("");
    if (auto d = TRY(fields::optString(*ipamObj, "dataDir", "ipam")); d && !d->empty())
        cfg.dataDir = *d;
    return cfg;
}

} // namespace tether::hostlocal
