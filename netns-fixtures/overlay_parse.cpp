// Parsing and validation of "overlays" (see overlay.hpp, docs/fixtures.md "Overlays").
#include <set>
#include <string>

#include "libnet/link.hpp"
#include "netns-fixtures/json_check.hpp"
#include "netns-fixtures/overlay.hpp"

namespace tether::fixture {

namespace {

using nlohmann::json;

using detail::bad;
using detail::badType;
using detail::onlyKeys;

Expected<std::string> str(const json& obj, const char* key, const std::string& where,
                          std::string dflt, bool required = false) {
    auto it = obj.find(key);
    if (it == obj.end()) {
        if (required) return bad(where, std::string("missing \"") + key + "\"");
        return dflt;
    }
    if (!it->is_string()) return badType(where + "." + key, "a string");
    return it->get<std::string>();
}

Expected<int64_t> integer(const json& obj, const char* key, const std::string& where, int64_t dflt,
                          int64_t lo, int64_t hi) {
    auto it = obj.find(key);
    if (it == obj.end()) return dflt;
    if (!it->is_number_integer()) return badType(where + "." + key, "an integer");
    auto v = it->get<int64_t>();
    if (v < lo || v > hi)
        return bad(where + "." + key, std::to_string(v) + " outside " + std::to_string(lo) + ".." +
                                          std::to_string(hi));
    return v;
}

Expected<net::IpPrefix> ipv4Cidr(const json& obj, const char* key, const std::string& where) {
    auto text = TRY(str(obj, key, where, "", true));
    auto p = net::IpPrefix::parse(text);
    if (!p) return bad(where + "." + key, "invalid CIDR \"" + text + "\"");
    if (!p->address().isV4()) return bad(where + "." + key, "must be IPv4, not " + text);
    return p->masked();
}

/// Interfaces of `host` made by the topology's links and switches.
std::set<std::string> ifnamesOf(const Topology& t, const std::string& host) {
    std::set<std::string> names;
    for (const auto& l : t.links)
        for (const auto* e : {&l.a, &l.b}) {
            bool here = e->host == host;
            if (!e->switchName.empty()) here = t.findSwitch(e->switchName)->host == host;
            if (here) names.insert(e->ifname);
        }
    for (const auto& s : t.switches)
        if (s.host == host) names.insert(s.bridge);
    return names;
}

/// The first IPv4 address configured on host/dev by the topology's links.
std::optional<net::IpAddress> underlayOf(const Topology& t, const std::string& host,
                                         const std::string& dev) {
    for (const auto& l : t.links)
        for (const auto* e : {&l.a, &l.b})
            if (e->host == host && e->ifname == dev)
                for (const auto& p : e->addresses)
                    if (p.address().isV4()) return p.address();
    for (const auto& s : t.switches)
        if (s.host == host && s.bridge == dev)
            for (const auto& p : s.addresses)
                if (p.address().isV4()) return p.address();
    return std::nullopt;
}

Expected<OverlaySpec> parseOverlay(const json& j, const std::string& where, const Topology& t) {
    TRY(onlyKeys(j, where,
                 {"name", "device", "vni", "port", "mtu", "clusterCidr", "masquerade", "nodes"}));
    OverlaySpec o;
    o.name = TRY(str(j, "name", where, "", true));
    TRY(validateName(o.name, where + ".name"));
    o.vni = static_cast<uint32_t>(TRY(integer(j, "vni", where, 1, 1, 16777215)));
    o.port = static_cast<uint16_t>(TRY(integer(j, "port", where, 8472, 1, 65535)));
    o.mtu = static_cast<uint32_t>(TRY(integer(j, "mtu", where, 1450, 68, 65535)));
    o.device = TRY(str(j, "device", where, "flannel." + std::to_string(o.vni)));
    if (!net::validateIfName(o.device) || o.device == "lo")
        return bad(where + ".device", "invalid interface name \"" + o.device + "\"");
    o.clusterCidr = TRY(ipv4Cidr(j, "clusterCidr", where));
    if (auto it = j.find("masquerade"); it != j.end()) {
        if (!it->is_boolean()) return badType(where + ".masquerade", "a boolean");
        o.masquerade = it->get<bool>();
    }
    auto nodes = j.find("nodes");
    if (nodes == j.end()) return bad(where, "missing \"nodes\"");
    if (!nodes->is_array()) return badType(where + ".nodes", "an array");
    if (nodes->size() < 2) return bad(where + ".nodes", "an overlay needs at least two nodes");
    for (size_t i = 0; i < nodes->size(); ++i) {
        std::string w = where + ".nodes[" + std::to_string(i) + "]";
        const json& n = (*nodes)[i];
        TRY(onlyKeys(n, w, {"host", "dev", "subnet"}));
        OverlayNodeSpec node;
        node.host = TRY(str(n, "host", w, "", true));
        node.dev = TRY(str(n, "dev", w, "eth0"));
        node.subnet = TRY(ipv4Cidr(n, "subnet", w));
        const HostSpec* h = t.findHost(node.host);
        if (!h) return bad(w + ".host", "unknown host \"" + node.host + "\"");
        if (!h->router) return bad(w + ".host", "host " + node.host + " needs \"router\": true");
        auto names = ifnamesOf(t, node.host);
        if (!names.count(node.dev))
            return bad(w + ".dev", "host " + node.host + " has no interface \"" + node.dev + "\"");
        if (names.count(o.device))
            return bad(where + ".device",
                       "interface \"" + o.device + "\" already used in " + node.host);
        auto underlay = underlayOf(t, node.host, node.dev);
        if (!underlay) return bad(w + ".dev", node.host + "/" + node.dev + " has no IPv4 address");
        node.underlay = *underlay;
        if (node.subnet.length() > 30 || node.subnet.length() < o.clusterCidr.length() ||
            !o.clusterCidr.contains(node.subnet.address()))
            return bad(w + ".subnet", node.subnet.str() + " is outside clusterCidr " +
                                          o.clusterCidr.str() + " (or longer than /30)");
        for (size_t k = 0; k < o.nodes.size(); ++k) {
            std::string other = where + ".nodes[" + std::to_string(k) + "]";
            if (o.nodes[k].host == node.host)
                return bad(w + ".host", "host " + node.host + " already in " + other);
            if (o.nodes[k].subnet.overlaps(node.subnet))
                return bad(w + ".subnet", node.subnet.str() + " overlaps " +
                                              o.nodes[k].subnet.str() + " of " + other);
        }
        o.nodes.push_back(std::move(node));
    }
    return o;
}

} // namespace

Status parseOverlays(const json& doc, Topology& t) {
    auto it = doc.find("overlays");
    if (it == doc.end()) return {};
    if (!it->is_array()) return badType("overlays", "an array");
    std::set<std::pair<std::string, std::string>> devices; // (host, device)
    for (size_t i = 0; i < it->size(); ++i) {
        std::string w = "overlays[" + std::to_string(i) + "]";
        auto o = TRY(parseOverlay((*it)[i], w, t));
        for (const auto& ov : t.overlays)
            if (ov.name == o.name) return bad(w + ".name", "duplicate overlay \"" + o.name + "\"");
        for (const auto& n : o.nodes)
            if (!devices.insert({n.host, o.device}).second)
                return bad(w + ".device", "interface \"" + o.device + "\" already used in " +
                                              n.host + " by another overlay");
        t.overlays.push_back(std::move(o));
    }
    return {};
}

} // namespace tether::fixture
