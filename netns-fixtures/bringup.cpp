// The creation steps of a fixture, in order: namespaces (lo up), bridges, veth pairs (ports
// enslaved, addresses, up), forwarding, routes, NAT, containers. Every step names the element
// it works on in its error; undo is the caller's teardown of the whole record.
//
// Speed (bench/fixtures, docs/fixtures.md "Performance"): namespaces are created by a few worker
// threads that stay inside the namespace they just made (no thread or setns per namespace); the
// link steps are pipelined per namespace (NlBatch: one sendmsg, then the acks) and need no
// read-back except the index of an interface that gets addresses or routes: a veth is created
// with one queue per direction (the kernel otherwise trims the default multi-queue veth back to
// one queue, waiting for an RCU grace period per end) and its first end up and enslaved in the
// same request; the second end (which the kernel cannot bring up before the pair is complete)
// is set up and enslaved by name in one more request.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "libcni/attach.hpp"
#include "libnet/addr.hpp"
#include "libnet/bridge.hpp"
#include "libnet/link.hpp"
#include "libnet/nft.hpp"
#include "libnet/route.hpp"
#include "libnet/sysctl.hpp"
#include "netns-fixtures/fixture_state.hpp"
#include "netns-fixtures/nl_batch.hpp"
#include "netns-fixtures/overlay.hpp"

namespace tether::fixture {

namespace {

using IfKey = std::pair<std::string, std::string>; // (node, ifname)
using IfIndex = std::map<IfKey, int>;

/// The node (namespace) an endpoint's interface lives in.
std::string nodeOf(const Topology& t, const EndpointSpec& e) {
    if (!e.host.empty()) return e.host;
    const SwitchSpec* s = t.findSwitch(e.switchName);
    return s->host.empty() ? s->name : s->host;
}

std::string bridgeNodeOf(const SwitchSpec& s) {
    return s.host.empty() ? s.name : s.host;
}

Status addAddresses(net::NetlinkSocket& sock, int ifindex, const std::vector<net::IpPrefix>& addrs,
                    const std::string& where) {
    for (const auto& p : addrs) {
        net::Address a{.ifindex = ifindex, .prefix = p};
        if (!p.address().isV4()) a.flags = net::kAddrNoDad; // usable at once, no DAD wait
        if (auto st = net::addAddress(sock, a); !st)
            return std::unexpected(st.error().wrap("add address " + p.str() + " to " + where));
    }
    return {};
}

// ---- namespaces --------------------------------------------------------------------------------

struct NewNetns {
    std::optional<net::Netns> ns;
    std::optional<net::NetlinkSocket> sock;
};

/// A switch's own namespace is a plain L2 box: no IPv6 on its bridge and ports (no link-local
/// addresses, DAD or MLD reports there; bridged IPv6 between hosts is unaffected). Best effort:
/// a kernel without IPv6 has no such keys. `ns` = nullptr: the calling thread's namespace.
void disableIpv6(const net::Netns* ns) {
    for (const char* key : {"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"})
        (void)(ns ? net::writeSysctl(*ns, key, "1") : net::writeSysctl(key, "1"));
}

/// One namespace made by a worker thread: pinned, opened, a socket in it and lo up.
Status makeNetnsHere(const std::string& node, const std::string& path, bool l2only, NewNetns& out) {
    if (auto st = net::pinNewNetnsHere(path); !st)
        return std::unexpected(st.error().wrap("create netns for " + node));
    auto ns = net::Netns::open(path);
    if (!ns) return std::unexpected(ns.error().wrap("create netns for " + node));
    out.ns.emplace(std::move(*ns));
    auto sock = net::NetlinkSocket::open(); // this thread is inside the new namespace
    if (!sock) return std::unexpected(sock.error().wrap("netlink socket in " + node));
    out.sock.emplace(std::move(*sock));
    // A new namespace has exactly one link, lo, with ifindex 1.
    if (auto st = net::setLinkUp(*out.sock, 1, true); !st)
        return std::unexpected(st.error().wrap("set lo up in " + node));
    if (l2only) disableIpv6(nullptr);
    return {};
}

Status createNamespaces(Fixture::State& s) {
    std::vector<std::pair<std::string, std::string>> todo(s.record.netns.begin(),
                                                          s.record.netns.end());
    if (todo.empty()) return {};
    std::vector<NewNetns> made(todo.size());
    auto l2only = [&](size_t i) {
        const SwitchSpec* sw = s.topology.findSwitch(todo[i].first);
        return sw && sw->host.empty();
    };
    auto adopt = [&](size_t i) {
        if (made[i].ns) s.netns.emplace(todo[i].first, std::move(*made[i].ns));
        if (made[i].sock) s.sockets.emplace(todo[i].first, std::move(*made[i].sock));
    };
    // The first one through libnet: it creates the directory and makes it a shared mount once.
    {
        const auto& [node, path] = todo[0];
        auto ns = net::createPinnedNetns(path, s.sharedNetnsDir);
        if (!ns) return std::unexpected(ns.error().wrap("create netns for " + node));
        auto sock = net::NetlinkSocket::openIn(*ns);
        net::Netns& nsHere = made[0].ns.emplace(std::move(*ns));
        if (!sock) {
            adopt(0);
            return std::unexpected(sock.error().wrap("netlink socket in " + node));
        }
        net::NetlinkSocket& sockHere = made[0].sock.emplace(std::move(*sock));
        if (auto st = net::setLinkUp(sockHere, 1, true); !st) {
            adopt(0);
            return std::unexpected(st.error().wrap("set lo up in " + node));
        }
        if (l2only(0)) disableIpv6(&nsHere);
    }
    // The rest by workers that each unshare again for every namespace they make (unshare acts on
    // the calling thread only, so the caller's namespace is never touched). Much of the kernel's
    // namespace set-up runs outside the RTNL lock, so this scales with cores.
    std::atomic<size_t> next{1};
    std::mutex mu;
    std::optional<std::pair<size_t, Error>> failure; // lowest index that failed
    auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < todo.size();) {
            if (auto st = makeNetnsHere(todo[i].first, todo[i].second, l2only(i), made[i]); !st) {
                std::lock_guard lock(mu);
                if (!failure || i < failure->first) failure.emplace(i, std::move(st).error());
                next = todo.size(); // stop the others after their current one
            }
        }
    };
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    size_t workers = std::min<size_t>({todo.size() - 1, cores, 4});
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers; ++w) {
        try {
            threads.emplace_back(work);
        } catch (const std::system_error&) {
            break; // fewer workers; at least one is needed
        }
    }
    if (threads.empty() && workers > 0) {
        try {
            threads.emplace_back(work);
        } catch (const std::system_error& e) {
            for (size_t i = 0; i < todo.size(); ++i)
                adopt(i);
            return fail(Code::Internal,
                        std::string("start a thread to create namespaces: ") + e.what());
        }
    }
    for (auto& t : threads)
        t.join();
    for (size_t i = 0; i < todo.size(); ++i)
        adopt(i);
    if (failure) return std::unexpected(std::move(failure->second));
    return {};
}

// ---- switches ----------------------------------------------------------------------------------

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

// ---- links -------------------------------------------------------------------------------------

ifinfomsg linkHeader(int index, bool up) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    if (up) {
        ifi.ifi_flags = IFF_UP;
        ifi.ifi_change = IFF_UP;
    }
    return ifi;
}

/// The attributes both ends of a veth get: name, MTU, one TX and one RX queue.
void putVethEnd(nl_msg* m, const std::string& ifname, uint32_t mtu) {
    nla_put_string(m, IFLA_IFNAME, ifname.c_str());
    if (mtu) nla_put_u32(m, IFLA_MTU, mtu);
    nla_put_u32(m, IFLA_NUM_TX_QUEUES, 1);
    nla_put_u32(m, IFLA_NUM_RX_QUEUES, 1);
}

/// RTM_NEWLINK creating the pair a <-> b: a in the socket's namespace, up and enslaved to
/// `masterA` when non-zero; b born (down) in `nsB`. Echoed, to learn both indexes.
net::NlMsg vethRequest(const LinkSpec& l, int masterA, const net::Netns& nsB) {
    ifinfomsg ifi = linkHeader(0, true);
    // NLM_F_ECHO: the kernel (~6.3+) answers with the new link, whose IFLA_LINK is the peer's
    // index.
    net::NlMsg msg =
        net::makeMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, &ifi, sizeof ifi);
    nl_msg* m = msg.get();
    putVethEnd(m, l.a.ifname, l.mtu);
    if (masterA) nla_put_u32(m, IFLA_MASTER, static_cast<uint32_t>(masterA));
    nlattr* linkinfo = nla_nest_start(m, IFLA_LINKINFO);
    nla_put_string(m, IFLA_INFO_KIND, "veth");
    nlattr* data = nla_nest_start(m, IFLA_INFO_DATA);
    nlattr* peer = nla_nest_start(m, VETH_INFO_PEER);
    // The peer attribute is an ifinfomsg followed by the peer's own IFLA_* attributes.
    ifinfomsg peerIfi = linkHeader(0, false); // up only once the pair exists (else ENOTCONN)
    if (nlmsg_append(m, &peerIfi, sizeof peerIfi, NLMSG_ALIGNTO) < 0) std::abort();
    putVethEnd(m, l.b.ifname, l.mtu);
    nla_put_u32(m, IFLA_NET_NS_FD, static_cast<uint32_t>(nsB.fd()));
    nla_nest_end(m, peer);
    nla_nest_end(m, data);
    nla_nest_end(m, linkinfo);
    return msg;
}

/// RTM_NEWLINK setting the interface called `ifname` up and, when non-zero, enslaving it to
/// `master`.
net::NlMsg upRequest(const std::string& ifname, int master) {
    ifinfomsg ifi = linkHeader(0, true);
    net::NlMsg msg = net::makeMessage(RTM_NEWLINK, 0, &ifi, sizeof ifi);
    nla_put_string(msg.get(), IFLA_IFNAME, ifname.c_str());
    if (master) nla_put_u32(msg.get(), IFLA_MASTER, static_cast<uint32_t>(master));
    return msg;
}

/// RTM_GETLINK of the interface called `ifname` (without statistics).
net::NlMsg getLinkRequest(const std::string& ifname) {
    ifinfomsg ifi = linkHeader(0, false);
    net::NlMsg msg = net::makeMessage(RTM_GETLINK, 0, &ifi, sizeof ifi);
    nla_put_string(msg.get(), IFLA_IFNAME, ifname.c_str());
    nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    return msg;
}

void putIp(nl_msg* m, int type, const net::IpAddress& a) {
    nla_put(m, type, static_cast<int>(a.size()), a.bytes());
}

/// RTM_NEWADDR as net::addAddress builds it (IPv4 with the prefix's broadcast, IPv6 nodad).
net::NlMsg addressRequest(int ifindex, const net::IpPrefix& p) {
    const net::IpAddress& local = p.address();
    ifaddrmsg ifa{};
    ifa.ifa_family = local.isV4() ? AF_INET : AF_INET6;
    ifa.ifa_prefixlen = static_cast<uint8_t>(p.length());
    ifa.ifa_flags = local.isV4() ? 0 : IFA_F_NODAD; // usable at once, no DAD wait
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = static_cast<uint32_t>(ifindex);
    net::NlMsg msg = net::makeMessage(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
    putIp(msg.get(), IFA_LOCAL, local);
    putIp(msg.get(), IFA_ADDRESS, local);
    if (local.isV4() && p.length() < 31) putIp(msg.get(), IFA_BROADCAST, p.last());
    return msg;
}

/// One NlBatch per namespace, flushed in a fixed order.
class Batches {
  public:
    explicit Batches(Fixture::State& s) : s_(s) {}
    NlBatch& operator[](const std::string& node) {
        return batches_.try_emplace(node, s_.sockets.at(node)).first->second;
    }
    Status flush() {
        std::optional<Error> first;
        for (auto& [node, batch] : batches_)
            if (auto st = batch.flush(); !st && !first) first = std::move(st).error();
        if (first) return std::unexpected(std::move(*first));
        return {};
    }

  private:
    Fixture::State& s_;
    std::map<std::string, NlBatch> batches_;
};

Status createLinks(Fixture::State& s, IfIndex& idx) {
    const Topology& t = s.topology;
    auto where = [](size_t i) { return "links[" + std::to_string(i) + "]"; };
    auto masterOf = [&](const std::string& node, const EndpointSpec& e) {
        if (e.switchName.empty()) return 0;
        return idx.at({node, t.findSwitch(e.switchName)->bridge});
    };
    // 1. Every pair, created from its a end's namespace: a up and enslaved; the echo of the new
    //    link gives both indexes. (Asking with RTM_GETLINK instead would make the kernel process
    //    the link's pending carrier event first, which waits for an RCU grace period.)
    Batches batches(s);
    for (size_t i = 0; i < t.links.size(); ++i) {
        const auto& l = t.links[i];
        std::string nodeA = nodeOf(t, l.a), nodeB = nodeOf(t, l.b);
        IfKey keyA{nodeA, l.a.ifname}, keyB{nodeB, l.b.ifname};
        auto onEcho = [&idx, keyA, keyB](const nlmsghdr* h) {
            if (h->nlmsg_type != RTM_NEWLINK) return;
            auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
            nlattr* tb[IFLA_MAX + 1] = {};
            if (nlmsg_parse(const_cast<nlmsghdr*>(h), sizeof *ifi, tb, IFLA_MAX, nullptr) < 0)
                return;
            if (!tb[IFLA_IFNAME] || keyA.second != nla_get_string(tb[IFLA_IFNAME])) return;
            idx[keyA] = ifi->ifi_index;
            if (tb[IFLA_LINK]) idx[keyB] = static_cast<int>(nla_get_u32(tb[IFLA_LINK]));
        };
        batches[nodeA].add(vethRequest(l, masterOf(nodeA, l.a), s.netns.at(nodeB)),
                           where(i) + ": create veth " + nodeA + "/" + l.a.ifname + " <-> " +
                               nodeB + "/" + l.b.ifname,
                           onEcho);
    }
    TRY(batches.flush());
    // 2. b ends up (and enslaved when on a switch); the index of every interface that gets
    //    addresses or routes and was not learnt from an echo (older kernels do not echo).
    std::set<IfKey> wanted;
    for (const auto& l : t.links)
        for (const auto* e : {&l.a, &l.b})
            if (!e->addresses.empty()) wanted.insert({nodeOf(t, *e), e->ifname});
    for (const auto& h : t.hosts)
        for (const auto& r : h.routes)
            if (!r.dev.empty()) wanted.insert({h.name, r.dev});
    for (size_t i = 0; i < t.links.size(); ++i) {
        const auto& l = t.links[i];
        std::string nodeB = nodeOf(t, l.b);
        int master = masterOf(nodeB, l.b);
        batches[nodeB].add(upRequest(l.b.ifname, master),
                           where(i) + ": set " + nodeB + "/" + l.b.ifname + " up" +
                               (master ? " on switch " + l.b.switchName : ""));
    }
    for (const auto& key : wanted) {
        if (idx.contains(key)) continue;
        batches[key.first].add(
            getLinkRequest(key.second), "look up " + key.first + "/" + key.second,
            [&idx, key](const nlmsghdr* h) {
                if (h->nlmsg_type == RTM_NEWLINK)
                    idx[key] = static_cast<const ifinfomsg*>(NLMSG_DATA(h))->ifi_index;
            });
    }
    TRY(batches.flush());
    // 3. Addresses.
    for (size_t i = 0; i < t.links.size(); ++i) {
        const auto& l = t.links[i];
        for (const auto* e : {&l.a, &l.b}) {
            std::string node = nodeOf(t, *e);
            auto it = idx.find({node, e->ifname});
            if (e->addresses.empty()) continue;
            if (it == idx.end())
                return fail(Code::Internal, where(i) + ": no index for " + node + "/" + e->ifname);
            for (const auto& p : e->addresses)
                batches[node].add(addressRequest(it->second, p), where(i) + " " + node + "/" +
                                                                     e->ifname + ": add address " +
                                                                     p.str());
        }
    }
    return batches.flush();
}

// ---- hosts, containers -------------------------------------------------------------------------

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
            return std::unexpected(
                st.error().wrap("router " + h.name + ": enable IPv4 forwarding"));
        if (hostHasV6(s.topology, h.name))
            if (auto st = net::setForwarding(ns, net::Family::V6, true); !st)
                return std::unexpected(
                    st.error().wrap("router " + h.name + ": enable IPv6 forwarding"));
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
        rt::AttachRequest req{
            .containerId = c.containerId, .netnsPath = c.netns, .networks = {c.network}};
        auto st = net::inNetns(s.netns.at(spec.host), [&]() -> Status {
            TRY(rt::attachNetworks(paths, req));
            return {};
        });
        if (!st)
            return std::unexpected(
                st.error().wrap("container " + c.name + " on host " + spec.host));
    }
    return {};
}

} // namespace

Status bringUp(Fixture::State& s) {
    IfIndex idx;
    TRY(createNamespaces(s));
    TRY(createSwitches(s, idx));
    TRY(createLinks(s, idx));
    for (const auto& h : s.topology.hosts)
        TRY(configureHost(s, h, idx));
    TRY(createOverlays(s));
    TRY(attachContainers(s));
    return {};
}

} // namespace tether::fixture
