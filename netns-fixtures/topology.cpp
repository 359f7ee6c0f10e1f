#include "netns-fixtures/topology.hpp"

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "base/file.hpp"
#include "cni/json_limits.hpp"
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
                          bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
        if (required) return bad(where, std::string("missing \"") + key + "\"");
        return std::string();
    }
    if (!it->is_string()) return badType(where + "." + key, "a string");
    return it->get<std::string>();
}

Expected<uint32_t> mtuOf(const json& obj, const std::string& where) {
    auto it = obj.find("mtu");
    if (it == obj.end()) return 0u;
    if (!it->is_number_integer()) return badType(where + ".mtu", "an integer");
    auto v = it->get<int64_t>();
    if (v < 68 || v > 65535) return bad(where + ".mtu", std::to_string(v) + " outside 68..65535");
    return static_cast<uint32_t>(v);
}

Expected<net::IpPrefix> cidr(const json& v, const std::string& where) {
    if (!v.is_string()) return badType(where, "a CIDR string");
    auto p = net::IpPrefix::parse(v.get<std::string>());
    if (!p) return bad(where, "invalid CIDR \"" + v.get<std::string>() + "\"");
    return *p;
}

Expected<std::vector<net::IpPrefix>> addressList(const json& obj, const std::string& where) {
    std::vector<net::IpPrefix> out;
    auto it = obj.find("addresses");
    if (it == obj.end()) return out;
    if (!it->is_array()) return badType(where + ".addresses", "an array");
    for (size_t i = 0; i < it->size(); ++i) {
        auto p = TRY(cidr((*it)[i], where + ".addresses[" + std::to_string(i) + "]"));
        if (p.address() == p.network() && p.length() < p.address().bits() - 1)
            return bad(where + ".addresses[" + std::to_string(i) + "]",
                       p.str() + " is a network address, not an interface address");
        out.push_back(p);
    }
    return out;
}

const json& arrayOf(const json& doc, const char* key) {
    static const json empty = json::array();
    auto it = doc.find(key);
    return it == doc.end() ? empty : *it;
}

Expected<RouteSpec> parseRoute(const json& j, const std::string& where) {
    TRY(onlyKeys(j, where, {"to", "via", "dev"}));
    RouteSpec r;
    auto to = TRY(str(j, "to", where, true));
    auto via = TRY(str(j, "via", where, false));
    r.dev = TRY(str(j, "dev", where, false));
    if (!via.empty()) {
        r.via = net::IpAddress::parse(via);
        if (!r.via) return bad(where + ".via", "invalid address \"" + via + "\"");
    }
    if (to == "default") {
        bool v6 = r.via && !r.via->isV4();
        static constexpr uint8_t kAny[16] = {};
        r.dst = net::IpPrefix(
            net::IpAddress::fromBytes(v6 ? net::Family::V6 : net::Family::V4, kAny), 0);
    } else {
        r.dst = TRY(cidr(j["to"], where + ".to")).masked();
    }
    if (!r.via && r.dev.empty()) return bad(where, "needs \"via\" or \"dev\"");
    if (r.via && r.via->family() != r.dst.family())
        return bad(where, "\"via\" " + r.via->str() + " and \"to\" " + r.dst.str() +
                              " are of different families");
    return r;
}

Expected<HostSpec> parseHost(const json& j, const std::string& where) {
    TRY(onlyKeys(j, where, {"name", "router", "routes", "nat"}));
    HostSpec h;
    h.name = TRY(str(j, "name", where, true));
    TRY(validateName(h.name, where + ".name"));
    if (auto it = j.find("router"); it != j.end()) {
        if (!it->is_boolean()) return badType(where + ".router", "a boolean");
        h.router = it->get<bool>();
    }
    const json& routes = arrayOf(j, "routes");
    if (!routes.is_array()) return badType(where + ".routes", "an array");
    for (size_t i = 0; i < routes.size(); ++i)
        h.routes.push_back(
            TRY(parseRoute(routes[i], where + ".routes[" + std::to_string(i) + "]")));
    const json& nat = arrayOf(j, "nat");
    if (!nat.is_array()) return badType(where + ".nat", "an array");
    for (size_t i = 0; i < nat.size(); ++i) {
        std::string w = where + ".nat[" + std::to_string(i) + "]";
        TRY(onlyKeys(nat[i], w, {"out", "source"}));
        NatSpec n;
        n.out = TRY(str(nat[i], "out", w, true));
        if (nat[i].contains("source"))
            n.source = TRY(cidr(nat[i]["source"], w + ".source")).masked();
        h.nat.push_back(std::move(n));
    }
    if (!h.nat.empty() && !h.router) return bad(where, "NAT needs \"router\": true");
    return h;
}

Expected<SwitchSpec> parseSwitch(const json& j, const std::string& where) {
    TRY(onlyKeys(j, where, {"name", "host", "bridge", "mtu", "addresses"}));
    SwitchSpec s;
    s.name = TRY(str(j, "name", where, true));
    TRY(validateName(s.name, where + ".name"));
    s.host = TRY(str(j, "host", where, false));
    s.bridge = TRY(str(j, "bridge", where, false));
    if (s.bridge.empty()) s.bridge = s.name;
    if (auto st = net::validateIfName(s.bridge); !st)
        return bad(where + ".bridge", "invalid interface name \"" + s.bridge +
                                          "\" (set \"bridge\" to a name of at most 15 characters)");
    s.mtu = TRY(mtuOf(j, where));
    s.addresses = TRY(addressList(j, where));
    if (!s.addresses.empty() && s.host.empty())
        return bad(where,
                   "addresses on a switch need \"host\" (the namespace the bridge lives in)");
    return s;
}

Expected<EndpointSpec> parseEnd(const json& j, const std::string& where) {
    TRY(onlyKeys(j, where, {"host", "switch", "ifname", "addresses"}));
    EndpointSpec e;
    e.host = TRY(str(j, "host", where, false));
    e.switchName = TRY(str(j, "switch", where, false));
    e.ifname = TRY(str(j, "ifname", where, false));
    e.addresses = TRY(addressList(j, where));
    if (e.host.empty() == e.switchName.empty())
        return bad(where, "needs exactly one of \"host\" or \"switch\"");
    if (!e.switchName.empty() && !e.addresses.empty())
        return bad(where, "a switch port carries no addresses (put them on the switch)");
    if (!e.ifname.empty()) {
        if (auto st = net::validateIfName(e.ifname); !st)
            return bad(where + ".ifname", "invalid interface name \"" + e.ifname + "\"");
        if (e.ifname == "lo") return bad(where + ".ifname", "\"lo\" is reserved");
    }
    return e;
}

Expected<ContainerSpec> parseContainer(const json& j, const std::string& where,
                                       const std::string& baseDir) {
    TRY(onlyKeys(j, where, {"name", "host", "conflist", "cniPath"}));
    ContainerSpec c;
    c.name = TRY(str(j, "name", where, true));
    TRY(validateName(c.name, where + ".name"));
    c.host = TRY(str(j, "host", where, true));
    c.cniPath = TRY(str(j, "cniPath", where, false));
    auto it = j.find("conflist");
    if (it == j.end()) return bad(where, "missing \"conflist\"");
    if (it->is_string()) {
        std::filesystem::path p(it->get<std::string>());
        if (p.is_relative()) p = std::filesystem::path(baseDir) / p;
        // A bounded read of a regular file (a FIFO or /proc/kmsg named here must not block the
        // parser), through the same depth/NUL checks as every other JSON text.
        auto text = readRegularFile(p.string(), "read", {.maxBytes = 4 << 20});
        const std::string cannotRead = where + ".conflist: cannot read " + p.string();
        if (!text) return fail(Code::IoFailure, cannotRead, text.error().msg);
        const std::optional<std::string>& body = *text;
        if (!body) return fail(Code::IoFailure, cannotRead, "");
        auto parsed = cni::parseJsonChecked(*body, p.string());
        if (!parsed)
            return fail(Code::DecodeFailure, where + ".conflist: " + p.string() + " is not JSON",
                        parsed.error().msg);
        c.conflist = std::move(*parsed);
    } else if (it->is_object()) {
        c.conflist = *it;
    } else {
        return badType(where + ".conflist", "a file path or a network list object");
    }
    if (!c.conflist.contains("name") || !c.conflist["name"].is_string())
        return bad(where + ".conflist", "needs a string \"name\"");
    if (!c.conflist.contains("plugins") || !c.conflist["plugins"].is_array())
        return bad(where + ".conflist", "needs a \"plugins\" array");
    return c;
}

/// Fills default interface names and checks that names are unique within each namespace.
Status assignIfNames(Topology& t) {
    // namespace of an end: its host, or the host the switch lives in, or the switch itself.
    auto nsOf = [&](const EndpointSpec& e) -> std::string {
        if (!e.host.empty()) return e.host;
        const SwitchSpec* s = t.findSwitch(e.switchName);
        return s->host.empty() ? "switch:" + s->name : s->host;
    };
    std::map<std::string, std::set<std::string>> taken;
    for (size_t i = 0; i < t.switches.size(); ++i) {
        const auto& s = t.switches[i];
        std::string ns = s.host.empty() ? "switch:" + s.name : s.host;
        if (!taken[ns].insert(s.bridge).second)
            return bad("switches[" + std::to_string(i) + "]",
                       "bridge name \"" + s.bridge + "\" already used in host " + ns);
    }
    for (size_t i = 0; i < t.links.size(); ++i) {
        for (auto* e : {&t.links[i].a, &t.links[i].b}) {
            if (e->ifname.empty()) continue;
            std::string w = "links[" + std::to_string(i) + "]." + (e == &t.links[i].a ? "a" : "b");
            if (!taken[nsOf(*e)].insert(e->ifname).second)
                return bad(w + ".ifname",
                           "interface \"" + e->ifname + "\" already used in " + nsOf(*e));
        }
    }
    for (size_t i = 0; i < t.links.size(); ++i) {
        for (auto* e : {&t.links[i].a, &t.links[i].b}) {
            if (!e->ifname.empty()) continue;
            auto& names = taken[nsOf(*e)];
            std::string base = e->host.empty() ? "p" : "eth";
            for (int n = e->host.empty() ? static_cast<int>(i) : 0;; ++n) {
                std::string cand = base + std::to_string(n);
                if (names.insert(cand).second) {
                    e->ifname = cand;
                    break;
                }
            }
        }
    }
    return {};
}

/// Rejects one address used twice, and overlapping subnets on different L2 segments (a switch,
/// with switches joined by links, is one segment; a host-to-host link is its own segment).
Status checkAddresses(const Topology& t) {
    std::map<std::string, std::string> segmentOfSwitch;
    for (const auto& s : t.switches)
        segmentOfSwitch[s.name] = "switch " + s.name;
    for (const auto& l : t.links) {
        if (l.a.switchName.empty() || l.b.switchName.empty()) continue;
        std::string from = segmentOfSwitch[l.b.switchName], to = segmentOfSwitch[l.a.switchName];
        for (auto& [_, seg] : segmentOfSwitch)
            if (seg == from) seg = to;
    }
    struct Use {
        net::IpPrefix prefix;
        std::string where, segment;
    };
    std::vector<Use> uses;
    for (size_t i = 0; i < t.switches.size(); ++i)
        for (size_t k = 0; k < t.switches[i].addresses.size(); ++k)
            uses.push_back(
                {t.switches[i].addresses[k],
                 "switches[" + std::to_string(i) + "].addresses[" + std::to_string(k) + "]",
                 segmentOfSwitch[t.switches[i].name]});
    for (size_t i = 0; i < t.links.size(); ++i) {
        const auto& l = t.links[i];
        std::string seg = !l.a.switchName.empty()   ? segmentOfSwitch[l.a.switchName]
                          : !l.b.switchName.empty() ? segmentOfSwitch[l.b.switchName]
                                                    : "link " + std::to_string(i);
        for (const auto* e : {&l.a, &l.b})
            for (size_t k = 0; k < e->addresses.size(); ++k)
                uses.push_back({e->addresses[k],
                                "links[" + std::to_string(i) + "]." + (e == &l.a ? "a" : "b") +
                                    ".addresses[" + std::to_string(k) + "]",
                                seg});
    }
    for (size_t i = 0; i < uses.size(); ++i) {
        for (size_t k = 0; k < i; ++k) {
            const auto &u = uses[i], &v = uses[k];
            if (u.prefix.address() == v.prefix.address())
                return bad(u.where,
                           "address " + u.prefix.address().str() + " already used by " + v.where);
            if (u.segment != v.segment && u.prefix.masked().overlaps(v.prefix.masked()))
                return bad(u.where, "subnet " + u.prefix.masked().str() + " overlaps " +
                                        v.prefix.masked().str() + " of " + v.where +
                                        " on a different segment");
        }
    }
    return {};
}

Status checkHostRefs(const Topology& t) {
    auto ifnamesOf = [&](const std::string& host) {
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
    };
    for (size_t i = 0; i < t.hosts.size(); ++i) {
        const auto& h = t.hosts[i];
        auto names = ifnamesOf(h.name);
        std::string w = "hosts[" + std::to_string(i) + "]";
        for (size_t k = 0; k < h.routes.size(); ++k)
            if (!h.routes[k].dev.empty() && !names.count(h.routes[k].dev))
                return bad(w + ".routes[" + std::to_string(k) + "].dev",
                           "host " + h.name + " has no interface \"" + h.routes[k].dev + "\"");
        for (size_t k = 0; k < h.nat.size(); ++k)
            if (!names.count(h.nat[k].out))
                return bad(w + ".nat[" + std::to_string(k) + "].out",
                           "host " + h.name + " has no interface \"" + h.nat[k].out + "\"");
    }
    return {};
}

} // namespace

Status validateName(std::string_view name, std::string_view what) {
    static const std::regex re("^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
    if (name.empty() || name.size() > 32 || !std::regex_match(std::string(name), re))
        return fail(Code::InvalidConfig,
                    std::string(what) + ": invalid name \"" + std::string(name) +
                        "\" (letters, digits, '_', '.', '-'; at most 32 characters)");
    return {};
}

Expected<Topology> Topology::parse(const json& doc, const std::string& baseDir) {
    TRY(onlyKeys(doc, "topology",
                 {"hosts", "switches", "links", "containers", "overlays", "description"}));
    Topology t;
    std::map<std::string, std::string> names; // every namespace-level name -> where defined
    auto claim = [&](const std::string& name, const std::string& where) -> Status {
        auto [it, fresh] = names.emplace(name, where);
        if (!fresh) return bad(where, "duplicate name \"" + name + "\" (also " + it->second + ")");
        return {};
    };
    for (const char* key : {"hosts", "switches", "links", "containers"})
        if (!arrayOf(doc, key).is_array()) return badType(key, "an array");
    const json& hosts = arrayOf(doc, "hosts");
    for (size_t i = 0; i < hosts.size(); ++i) {
        std::string w = "hosts[" + std::to_string(i) + "]";
        t.hosts.push_back(TRY(parseHost(hosts[i], w)));
        TRY(claim(t.hosts.back().name, w));
    }
    if (t.hosts.empty()) return bad("hosts", "at least one host is required");
    const json& switches = arrayOf(doc, "switches");
    for (size_t i = 0; i < switches.size(); ++i) {
        std::string w = "switches[" + std::to_string(i) + "]";
        t.switches.push_back(TRY(parseSwitch(switches[i], w)));
        TRY(claim(t.switches.back().name, w));
        const auto& s = t.switches.back();
        if (!s.host.empty() && !t.findHost(s.host))
            return bad(w + ".host", "unknown host \"" + s.host + "\"");
    }
    const json& links = arrayOf(doc, "links");
    for (size_t i = 0; i < links.size(); ++i) {
        std::string w = "links[" + std::to_string(i) + "]";
        TRY(onlyKeys(links[i], w, {"a", "b", "mtu"}));
        if (!links[i].contains("a") || !links[i].contains("b"))
            return bad(w, "needs \"a\" and \"b\"");
        LinkSpec l;
        l.a = TRY(parseEnd(links[i]["a"], w + ".a"));
        l.b = TRY(parseEnd(links[i]["b"], w + ".b"));
        l.mtu = TRY(mtuOf(links[i], w));
        for (const auto* e : {&l.a, &l.b}) {
            std::string we = w + (e == &l.a ? ".a" : ".b");
            if (!e->host.empty() && !t.findHost(e->host))
                return bad(we + ".host", "unknown host \"" + e->host + "\"");
            if (!e->switchName.empty() && !t.findSwitch(e->switchName))
                return bad(we + ".switch", "unknown switch \"" + e->switchName + "\"");
        }
        if (!l.a.host.empty() && l.a.host == l.b.host)
            return bad(w, "both ends are in host \"" + l.a.host + "\"");
        t.links.push_back(std::move(l));
    }
    const json& containers = arrayOf(doc, "containers");
    for (size_t i = 0; i < containers.size(); ++i) {
        std::string w = "containers[" + std::to_string(i) + "]";
        t.containers.push_back(TRY(parseContainer(containers[i], w, baseDir)));
        TRY(claim(t.containers.back().name, w));
        if (!t.findHost(t.containers.back().host))
            return bad(w + ".host", "unknown host \"" + t.containers.back().host + "\"");
    }
    TRY(assignIfNames(t));
    TRY(checkAddresses(t));
    TRY(checkHostRefs(t));
    TRY(parseOverlays(doc, t));
    return t;
}

Expected<Topology> Topology::parseText(std::string_view text, const std::string& baseDir) {
    // Deeply nested arrays would exhaust the stack in the recursive copies that follow parsing.
    if (auto ok = cni::checkJsonText(text, "topology"); !ok) return std::unexpected(ok.error());
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) return fail(Code::DecodeFailure, "topology: not valid JSON");
    return parse(doc, baseDir);
}

Expected<Topology> Topology::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(Code::IoFailure, "cannot read topology file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto dir = std::filesystem::path(path).parent_path().string();
    auto t = parseText(ss.str(), dir.empty() ? "." : dir);
    if (!t) return std::unexpected(t.error().wrap(path));
    return t;
}

const HostSpec* Topology::findHost(std::string_view name) const {
    for (const auto& h : hosts)
        if (h.name == name) return &h;
    return nullptr;
}

const SwitchSpec* Topology::findSwitch(std::string_view name) const {
    for (const auto& s : switches)
        if (s.name == name) return &s;
    return nullptr;
}

std::vector<std::string> Topology::namespaceNames() const {
    std::vector<std::string> out;
    out.reserve(hosts.size() + switches.size() + containers.size());
    for (const auto& h : hosts)
        out.push_back(h.name);
    for (const auto& s : switches)
        if (s.host.empty()) out.push_back(s.name);
    for (const auto& c : containers)
        out.push_back(c.name);
    return out;
}

} // namespace tether::fixture
