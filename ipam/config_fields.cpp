#include "ipam/config_fields.hpp"

#include "cni/json_fields.hpp"
#include "cni/version.hpp"
#include "libnet/ip.hpp"

namespace tether::ipam {

using nlohmann::json;
namespace fields = cni::fields;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::string indexedPath(std::string_view prefix, size_t i) {
    return std::string(prefix) + "[" + std::to_string(i) + "]";
}

std::vector<std::string_view> splitArgList(std::string_view s) {
    std::vector<std::string_view> out;
    while (true) {
        auto comma = s.find(',');
        out.push_back(trim(s.substr(0, comma)));
        if (comma == std::string_view::npos) return out;
        s.remove_prefix(comma + 1);
    }
}

Expected<const json*> ipamSection(const json& raw) {
    if (!raw.is_object()) return fields::typeError("network config", "an object");
    const json* ipam = TRY(fields::optObject(raw, "ipam", ""));
    if (!ipam) return fail(Code::InvalidConfig, "IPAM config missing 'ipam' key");
    return ipam;
}

Expected<std::vector<cni::Route>> parseRoutes(const json& ipam) {
    std::vector<cni::Route> out;
    const json* list = TRY(fields::optArray(ipam, "routes", "ipam"));
    if (!list) return out;
    for (size_t i = 0; i < list->size(); ++i) {
        const std::string path = indexedPath("ipam.routes", i);
        const json& r = (*list)[i];
        if (!r.is_object()) return fields::typeError(path, "an object");
        cni::Route route;
        auto dst = TRY(fields::optString(r, "dst", path));
        if (!dst) return fail(Code::InvalidConfig, path + ".dst: missing");
        auto prefix = net::IpPrefix::parse(*dst);
        if (!prefix) return fail(Code::InvalidConfig, path + ".dst: invalid CIDR address: " + *dst);
        route.dst = prefix->str();
        if (auto gw = TRY(fields::optString(r, "gw", path)); gw && !gw->empty()) {
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

Expected<std::vector<HandedIps>> handedIps(const json& raw) {
    std::vector<HandedIps> out;
    if (const json* args = TRY(fields::optObject(raw, "args", "")))
        if (const json* a = TRY(fields::optObject(*args, "cni", "args")))
            out.push_back({"args.cni", TRY(fields::optStringList(*a, "ips", "args.cni"))});
    if (const json* rc = TRY(fields::optObject(raw, "runtimeConfig", "")))
        out.push_back({"runtimeConfig", TRY(fields::optStringList(*rc, "ips", "runtimeConfig"))});
    return out;
}

Status checkOnePerFamily(size_t v4, size_t v6, std::string_view cniVersion) {
    if ((v4 > 1 || v6 > 1) && cni::compareVersions(cniVersion, "0.3.0") < 0)
        return fail(Code::InvalidConfig, "CNI version " + std::string(cniVersion) +
                                             " does not support more than 1 address per family");
    return {};
}

} // namespace tether::ipam
