// The creation steps of a fixture, in order: namespaces (lo up), bridges, veth pairs (ports
// enslaved, addresses, up), forwarding, routes, NAT, containers. Every step names the element
// it works on in its error; undo is the caller's teardown of the whole record.
#include <algorithm>
#include <map>
#include <string>

#include "libnet/addr.hpp"
#include "libnet/bridge.hpp"
#include "libnet/link.hpp"
#include "libnet/nft.hpp"
#include "libnet/route.hpp"
#include "libnet/sysctl.hpp"
#include "libnet/veth.hpp"
#include "netns-fixtures/fixture_state.hpp"
#include "runtime/net/attach.hpp"

namespace tether::fixture {

namespace {

using IfIndex = std::map<std::pair<std::string, std::string>, int>; // (node, ifname) -> ifindex

/// The node (namespace) an endpoint's interface lives in.
std::string nodeOf(const Topology& t, const EndpointSpec& e) {
    if (!e.host.empty()) return e.host;
    const SwitchSpec* s = t.findSwitch(e.switchName);
    return s->host.empty() ? s->name : s->host;
}

std::string bridgeNodeOf(const SwitchSpec& s) { return s.host.empty() ? s.name : s.host; }

Status addAddresses(net::NetlinkSocket& sock, int ifindex,
                    const std::vector<net::IpPrefix>& addrs, const std::string& where) {
    for (const auto& p : addrs) {
        net::Address a{.ifindex = ifindex, .prefix = p};
        if (!p.address().isV4()) a.flags = net::kAddrNoDad; // usable at once, no DAD wait
        if (auto st = net::addAddress(sock, a); !st)
            return std::unexpected(st.error().wrap("add address " + p.str() + " to " + where));
    }
    return {};
}

Status createNamespaces(Fixture::State& s) {
    bool first = true;
    for (const auto& [node, path] : s.record.netns) {
        auto ns = net::createPinnedNetns(path, first && s.sharedNetnsDir);
        first = false;
        if (!ns) return std::unexpected(ns.error().wrap("create netns for " + node));
        auto sock = net::NetlinkSocket::openIn(*ns);
        if (!sock) return std::unexpected(sock.error().wrap("netlink socket in " + node));
        // A new namespace has exactly one link, lo, with ifindex 1.
        if (auto st = net::setLinkUp(*sock, 1, true); !st)
            return std::unexpected(st.error().wrap("set lo up in " + node));
        s.netns.emplace(node, std::move(*ns));
        s.sockets.emplace(node, std::move(*sock));
    }
    return {};
}

Status createSwitches(Fixture::State& s, IfIndex& idx) {
    for (const auto& sw : s.topology.switches) {
        std::string node = bridgeNodeOf(sw);
        auto& sock = s.sockets.at(node);
        auto br = net::ensureBridge(sock, {.name = sw.bridge, .mtu = sw.mtu});
        if (!br) return std::unexpected(br.error().wrap("switch " + sw.name + ": create bridge"));
        idx[{node, sw.bridge}] = br->index;
        TRY(addAddresses(sock, br->index, sw.addresses, "switch " + sw.name));
    }
    return {};
}

Status createLink(Fixture::State& s, size_t i, IfIndex& idx) {
    const auto& l = s.topology.links[i];
    std::string where = "links[" + std::to_string(i) + "]";
    std::string nodeA = nodeOf(s.topology, l.a), nodeB = nodeOf(s.topology, l.b);
    auto& sockA = s.sockets.at(nodeA);
    auto& sockB = s.sockets.at(nodeB);
    net::VethSpec spec{.containerName = l.b.ifname,
                       .containerNetns = &s.netns.at(nodeB),
                       .hostName = l.a.ifname,
                       .mtu = l.mtu};
    auto pair = net::createVeth(sockA, sockB, spec);
    if (!pair)
        return std::unexpected(pair.error().wrap(where + ": create veth " + nodeA + "/" + l.a.ifname +
                                                 " <-> " + nodeB + "/" + l.b.ifname));
    struct End {
        const EndpointSpec* spec;
        const std::string* node;
        net::NetlinkSocket* sock;
        int index;
    } ends[2] = {{&l.a, &nodeA, &sockA, pair->host.index}, {&l.b, &nodeB, &sockB, pair->container.index}};
    for (const auto& e : ends) {
        std::string name = *e.node + "/" + e.spec->ifname;
        idx[{*e.node, e.spec->ifname}] = e.index;
        if (!e.spec->switchName.empty()) {
            const SwitchSpec* sw = s.topology.findSwitch(e.spec->switchName);
            if (auto st = net::setLinkMaster(*e.sock, e.index, idx.at({*e.node, sw->bridge})); !st)
                return std::unexpected(st.error().wrap(where + ": attach " + name + " to switch " + sw->name));
        }
        TRY(addAddresses(*e.sock, e.index, e.spec->addresses, where + " " + name));
        if (auto st = net::setLinkUp(*e.sock, e.index, true); !st)
            return std::unexpected(st.error().wrap(where + ": set " + name + " up"));
    }
    return {};
}

bool hostHasV6(const Topology& t, const std::string& host) {
    for (const auto& l : t.links)
        for (const auto* e : {&l.a, &l.b})
            if (nodeOf(t, *e) == host)
                for (const auto& p : e->addresses)
                    if (!p.address().isV4()) return true;
    for (const auto& sw : t.switches)
        if (sw.host == host)
            for (const auto& p : sw.addresses)
                if (!p.address().isV4()) return true;
    return false;
}

Status configureHost(Fixture::State& s, const HostSpec& h, const IfIndex& idx) {
    const net::Netns& ns = s.netns.at(h.name);
    auto& sock = s.sockets.at(h.name);
    if (h.router) {
        if (auto st = net::setForwarding(ns, net::Family::V4, true); !st)
            return std::unexpected(st.error().wrap("router " + h.name + ": enable IPv4 forwarding"));
        if (hostHasV6(s.topology, h.name))
            if (auto st = net::setForwarding(ns, net::Family::V6, true); !st)
                return std::unexpected(st.error().wrap("router " + h.name + ": enable IPv6 forwarding"));
    }
    for (const auto& r : h.routes) {
        net::Route route{.dst = r.dst, .gw = r.via};
        if (!r.dev.empty()) route.ifindex = idx.at({h.name, r.dev});
        if (auto st = net::addRoute(sock, route); !st)
            return std::unexpected(st.error().wrap("host " + h.name + ": add route " + r.dst.str() +
                                                   (r.via ? " via " + r.via->str() : "") +
                                                   (r.dev.empty() ? "" : " dev " + r.dev)));
    }
    if (h.nat.empty()) return {};
    std::string script = "add table inet tether-fixture\n"
                         "add chain inet tether-fixture postrouting "
                         "{ type nat hook postrouting priority srcnat ; policy accept ; }\n";
    for (const auto& n : h.nat) {
        script += "add rule inet tether-fixture postrouting oifname \"" + n.out + "\" ";
        if (n.source)
            script += std::string(n.source->family() == net::Family::V4 ? "ip" : "ip6") +
                      " saddr " + n.source->str() + " ";
        script += "masquerade\n";
    }
    return net::inNetns(ns, [&]() -> Status {
        auto nft = net::Nft::open();
        if (!nft) return std::unexpected(nft.error().wrap("router " + h.name + ": NAT"));
        return nft->run(script, "router " + h.name + ": add masquerade rules");
    });
}

Status attachContainers(Fixture::State& s) {
    for (const auto& c : s.record.containers) {
        const auto& spec = *std::find_if(s.topology.containers.begin(), s.topology.containers.end(),
                                         [&](const auto& x) { return x.name == c.name; });
        rt::NetPaths paths{.configDir = c.configDir, .cniPath = c.cniPath, .cacheDir = c.cacheDir};
        rt::AttachRequest req{.containerId = c.containerId, .netnsPath = c.netns, .networks = {c.network}};
        auto st = net::inNetns(s.netns.at(spec.host), [&]() -> Status {
            TRY(rt::attachNetworks(paths, req));
            return {};
        });
        if (!st) return std::unexpected(st.error().wrap("container " + c.name + " on host " + spec.host));
    }
    return {};
}

} // namespace

Status bringUp(Fixture::State& s) {
    IfIndex idx;
    TRY(createNamespaces(s));
    TRY(createSwitches(s, idx));
    for (size_t i = 0; i < s.topology.links.size(); ++i) TRY(createLink(s, i, idx));
    for (const auto& h : s.topology.hosts) TRY(configureHost(s, h, idx));
    TRY(attachContainers(s));
    return {};
}

} // namespace tether::fixture
