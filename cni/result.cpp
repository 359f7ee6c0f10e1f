#include "cni/result.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <climits>

#include "cni/json_fields.hpp"
#include "cni/version.hpp"

namespace tether::cni {

using nlohmann::json;

namespace {

/// The three result layouts the spec has had.
enum class Shape { Legacy, V04, V1 }; // 0.1/0.2: ip4/ip6; 0.3.x/0.4.0: ips[].version; 1.x

Shape shapeOf(std::string_view v) {
    if (compareVersions(v, "0.3.0") < 0) return Shape::Legacy;
    if (compareVersions(v, "1.0.0") < 0) return Shape::V04;
    return Shape::V1;
}

/// Canonical text of an IPv4/IPv6 address (as Go and inet_ntop print it), nullopt if invalid.
std::optional<std::string> canonicalIp(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char in[INET6_ADDRSTRLEN];
    text.copy(in, text.size());
    in[text.size()] = '\0';
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN];
    int family = text.find(':') == std::string_view::npos ? AF_INET : AF_INET6;
    if (inet_pton(family, in, buf) != 1) return std::nullopt;
    if (!inet_ntop(family, buf, out, sizeof out)) return std::nullopt;
    return std::string(out);
}

/// Canonical "addr/len", nullopt unless `text` is a valid CIDR (host bits allowed).
std::optional<std::string> canonicalCidr(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = canonicalIp(text.substr(0, slash));
    auto lenText = text.substr(slash + 1);
    if (!addr || lenText.empty() || (lenText.size() > 1 && lenText[0] == '0')) return std::nullopt;
    int len = -1;
    auto [p, ec] = std::from_chars(lenText.data(), lenText.data() + lenText.size(), len);
    if (ec != std::errc() || p != lenText.data() + lenText.size()) return std::nullopt;
    int maxLen = addr->find(':') == std::string::npos ? 32 : 128;
    if (len < 0 || len > maxLen) return std::nullopt;
    return *addr + "/" + std::to_string(len);
}

bool isV4(std::string_view addressOrCidr) {
    return addressOrCidr.find(':') == std::string_view::npos;
}

std::string at(std::string_view prefix, std::string_view list, size_t i) {
    return fields::join(prefix, list) + "[" + std::to_string(i) + "]";
}

Expected<std::string> cidrField(const json& obj, std::string_view key, std::string_view prefix) {
    auto v = TRY(fields::optString(obj, key, prefix));
    if (!v) return fail(Code::DecodeFailure, fields::join(prefix, key) + " is required");
    auto c = canonicalCidr(*v);
    if (!c)
        return fail(Code::DecodeFailure,
                    fields::join(prefix, key) + " must be a CIDR (address/prefix): \"" + *v + "\"");
    return *c;
}

Expected<std::string> ipField(const json& obj, std::string_view key, std::string_view prefix) {
    auto v = TRY(fields::optString(obj, key, prefix));
    if (!v || v->empty()) return std::string();
    auto c = canonicalIp(*v);
    if (!c)
        return fail(Code::DecodeFailure,
                    fields::join(prefix, key) + " must be an IP address: \"" + *v + "\"");
    return *c;
}

Expected<std::optional<int>> intField(const json& obj, std::string_view key,
                                      std::string_view prefix, int min = INT_MIN) {
    auto v = TRY(fields::optInt(obj, key, prefix));
    if (!v) return std::optional<int>();
    if (*v < min || *v > INT_MAX)
        return fields::typeError(fields::join(prefix, key),
                                 min == 0 ? "a non-negative integer" : "an integer in range");
    return std::optional<int>(static_cast<int>(*v));
}

Expected<Route> parseRoute(const json& j, const std::string& path) {
    if (!j.is_object()) return fields::typeError(path, "an object");
    Route r;
    r.dst = TRY(cidrField(j, "dst", path));
    r.gw = TRY(ipField(j, "gw", path));
    r.mtu = TRY(intField(j, "mtu", path, 0));
    r.advmss = TRY(intField(j, "advmss", path, 0));
    r.priority = TRY(intField(j, "priority", path, 0));
    r.table = TRY(intField(j, "table", path));
    r.scope = TRY(intField(j, "scope", path));
    return r;
}

Expected<std::vector<Route>> parseRoutes(const json& obj, std::string_view prefix) {
    std::vector<Route> out;
    const json* list = TRY(fields::optArray(obj, "routes", prefix));
    if (!list) return out;
    for (size_t i = 0; i < list->size(); ++i)
        out.push_back(TRY(parseRoute((*list)[i], at(prefix, "routes", i))));
    return out;
}

Expected<Interface> parseInterface(const json& j, const std::string& path) {
    if (!j.is_object()) return fields::typeError(path, "an object");
    Interface itf;
    itf.name = TRY(fields::optString(j, "name", path)).value_or("");
    itf.mac = TRY(fields::optString(j, "mac", path)).value_or("");
    if (auto mtu = TRY(intField(j, "mtu", path, 0))) itf.mtu = static_cast<unsigned>(*mtu);
    itf.sandbox = TRY(fields::optString(j, "sandbox", path)).value_or("");
    itf.socketPath = TRY(fields::optString(j, "socketPath", path)).value_or("");
    itf.pciID = TRY(fields::optString(j, "pciID", path)).value_or("");
    return itf;
}

Expected<IpConfig> parseIp(const json& j, const std::string& path) {
    if (!j.is_object()) return fields::typeError(path, "an object");
    IpConfig ip;
    (void)TRY(fields::optString(j, "version", path)); // 0.3.x/0.4.0 only; derived on output
    ip.address = TRY(cidrField(j, "address", path));
    ip.gateway = TRY(ipField(j, "gateway", path));
    ip.interface = TRY(intField(j, "interface", path));
    return ip;
}

Expected<void> parseCurrent(const json& j, std::string_view prefix, Result& r) {
    if (const json* list = TRY(fields::optArray(j, "interfaces", prefix)))
        for (size_t i = 0; i < list->size(); ++i)
            r.interfaces.push_back(TRY(parseInterface((*list)[i], at(prefix, "interfaces", i))));
    if (const json* list = TRY(fields::optArray(j, "ips", prefix)))
        for (size_t i = 0; i < list->size(); ++i)
            r.ips.push_back(TRY(parseIp((*list)[i], at(prefix, "ips", i))));
    r.routes = TRY(parseRoutes(j, prefix));
    return {};
}

/// 0.1.0/0.2.0: "ip4"/"ip6" objects {ip, gateway, routes}; converted as the reference does
/// (address and gateway into ips[], the object's routes appended to routes[]).
Expected<void> parseLegacy(const json& j, std::string_view prefix, Result& r) {
    for (std::string_view key : {"ip4", "ip6"}) {
        const json* obj = TRY(fields::optObject(j, key, prefix));
        if (!obj) continue;
        auto path = fields::join(prefix, key);
        IpConfig ip;
        ip.address = TRY(cidrField(*obj, "ip", path));
        ip.gateway = TRY(ipField(*obj, "gateway", path));
        r.ips.push_back(std::move(ip));
        for (auto& route : TRY(parseRoutes(*obj, path)))
            r.routes.push_back(std::move(route));
    }
    return {};
}

void putIfNotEmpty(json& j, const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
}

json routeJson(const Route& r, bool full) {
    json j = json::object();
    j["dst"] = r.dst;
    putIfNotEmpty(j, "gw", r.gw);
    if (!full) return j;
    if (r.mtu.value_or(0) != 0) j["mtu"] = *r.mtu;
    if (r.advmss.value_or(0) != 0) j["advmss"] = *r.advmss;
    if (r.priority.value_or(0) != 0) j["priority"] = *r.priority;
    if (r.table) j["table"] = *r.table;
    if (r.scope) j["scope"] = *r.scope;
    return j;
}

Expected<json> legacyJson(const Result& r, std::string_view version) {
    json out = json::object();
    out["cniVersion"] = version;
    for (const auto& ip : r.ips) {
        const char* key = isV4(ip.address) ? "ip4" : "ip6";
        if (out.contains(key)) continue; // 0.2.0 holds one address per family
        json o = json::object();
        o["ip"] = ip.address;
        putIfNotEmpty(o, "gateway", ip.gateway);
        out[key] = std::move(o);
    }
    if (!out.contains("ip4") && !out.contains("ip6"))
        return fail(Code::IncompatibleVersion,
                    "cannot convert result to " + std::string(version) + ": no valid IP addresses");
    for (const auto& route : r.routes) {
        const char* key = isV4(route.dst) ? "ip4" : "ip6";
        if (!out.contains(key)) continue;
        out[key]["routes"].push_back(routeJson(route, false));
    }
    if (!r.dns.empty()) out["dns"] = dnsToJson(r.dns);
    return out;
}

} // namespace

Expected<Result> parseResult(const json& j, std::string_view fallbackVersion) {
    return parseResult(j, fallbackVersion, "");
}

Expected<Result> parseResult(const json& j, std::string_view fallbackVersion,
                             std::string_view fieldPrefix) {
    if (!j.is_object())
        return fields::typeError(fieldPrefix.empty() ? "result" : fieldPrefix, "an object");
    Result r;
    r.cniVersion = TRY(fields::optString(j, "cniVersion", fieldPrefix)).value_or("");
    if (r.cniVersion.empty()) r.cniVersion = fallbackVersion;
    if (!isSupported(r.cniVersion))
        return fail(Code::IncompatibleVersion, fields::join(fieldPrefix, "cniVersion") +
                                                   ": unsupported result version \"" +
                                                   r.cniVersion + "\"");
    if (shapeOf(r.cniVersion) == Shape::Legacy)
        TRY(parseLegacy(j, fieldPrefix, r));
    else
        TRY(parseCurrent(j, fieldPrefix, r));
    if (const json* d = fields::get(j, "dns")) {
        auto dns = parseDns(*d);
        if (!dns)
            return std::unexpected(
                Error{dns.error().code, fields::join(fieldPrefix, dns.error().msg), {}, 0});
        r.dns = std::move(*dns);
    }
    return r;
}

Expected<json> toJson(const Result& r, std::string_view version) {
    TRY(requireSupported(version));
    Shape shape = shapeOf(version);
    if (shape == Shape::Legacy) return legacyJson(r, version);
    bool full = compareVersions(version, "1.1.0") >= 0;

    json out = json::object();
    out["cniVersion"] = version;
    for (const auto& itf : r.interfaces) {
        json o = json::object();
        o["name"] = itf.name;
        putIfNotEmpty(o, "mac", itf.mac);
        if (full && itf.mtu.value_or(0) != 0) o["mtu"] = *itf.mtu;
        putIfNotEmpty(o, "sandbox", itf.sandbox);
        if (full) {
            putIfNotEmpty(o, "socketPath", itf.socketPath);
            putIfNotEmpty(o, "pciID", itf.pciID);
        }
        out["interfaces"].push_back(std::move(o));
    }
    for (const auto& ip : r.ips) {
        json o = json::object();
        if (shape == Shape::V04) o["version"] = isV4(ip.address) ? "4" : "6";
        if (ip.interface) o["interface"] = *ip.interface;
        o["address"] = ip.address;
        putIfNotEmpty(o, "gateway", ip.gateway);
        out["ips"].push_back(std::move(o));
    }
    for (const auto& route : r.routes)
        out["routes"].push_back(routeJson(route, full));
    if (!r.dns.empty()) out["dns"] = dnsToJson(r.dns);
    return out;
}

Expected<Dns> parseDns(const json& j) {
    if (!j.is_object()) return fields::typeError("dns", "an object");
    Dns d;
    d.nameservers = TRY(fields::optStringList(j, "nameservers", "dns"));
    d.domain = TRY(fields::optString(j, "domain", "dns")).value_or("");
    d.search = TRY(fields::optStringList(j, "search", "dns"));
    d.options = TRY(fields::optStringList(j, "options", "dns"));
    return d;
}

json dnsToJson(const Dns& d) {
    json j = json::object();
    if (!d.nameservers.empty()) j["nameservers"] = d.nameservers;
    putIfNotEmpty(j, "domain", d.domain);
    if (!d.search.empty()) j["search"] = d.search;
    if (!d.options.empty()) j["options"] = d.options;
    return j;
}

std::string addressList(const Result& r) {
    std::string out;
    for (const auto& ip : r.ips) {
        if (!out.empty()) out += ", ";
        out += ip.address;
        if (!ip.gateway.empty()) out += " gw " + ip.gateway;
    }
    return out.empty() ? "no addresses" : out;
}

} // namespace tether::cni
