// Bring-up of flannel-style VXLAN overlays (see overlay.hpp). What flannel's vxlan backend does
// on each node, through rtnetlink: one VXLAN device (VNI, UDP port, local VTEP address on the
// underlay interface, learning off) with the node subnet's network address /32 on it; for each
// other node a permanent neighbour entry (its subnet's network address -> its VTEP MAC), a
// permanent FDB entry (that MAC -> its underlay address) and a route to its subnet via that
// address, onlink. The VTEP MAC is derived from the subnet (0e:fe:<subnet bytes>), so every node
// knows every other node's MAC before any device exists.
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <array>
#include <string>

#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/nft.hpp"
#include "libnet/route.hpp"
#include "netns-fixtures/overlay.hpp"

namespace tether::fixture {

namespace {

std::array<uint8_t, 6> vtepMac(const OverlayNodeSpec& n) {
    const net::IpAddress net = n.subnet.network();
    const uint8_t* b = net.bytes();
    return {0x0e, 0xfe, b[0], b[1], b[2], b[3]};
}

net::NlMsg vxlanRequest(const OverlaySpec& o, const OverlayNodeSpec& n, int underlayIndex) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
    net::NlMsg msg = net::makeMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
    nl_msg* m = msg.get();
    auto mac = vtepMac(n);
    nla_put_string(m, IFLA_IFNAME, o.device.c_str());
    nla_put_u32(m, IFLA_MTU, o.mtu);
    nla_put(m, IFLA_ADDRESS, static_cast<int>(mac.size()), mac.data());
    nlattr* linkinfo = nla_nest_start(m, IFLA_LINKINFO);
    nla_put_string(m, IFLA_INFO_KIND, "vxlan");
    nlattr* data = nla_nest_start(m, IFLA_INFO_DATA);
    nla_put_u32(m, IFLA_VXLAN_ID, o.vni);
    nla_put_u32(m, IFLA_VXLAN_LINK, static_cast<uint32_t>(underlayIndex));
    nla_put(m, IFLA_VXLAN_LOCAL, 4, n.underlay.bytes());
    nla_put_u16(m, IFLA_VXLAN_PORT, htons(o.port)); // big-endian on the wire
    nla_put_u8(m, IFLA_VXLAN_LEARNING, 0);
    nla_nest_end(m, data);
    nla_nest_end(m, linkinfo);
    return msg;
}

/// A permanent neighbour (family AF_INET) or FDB entry (AF_BRIDGE, NTF_SELF: the VXLAN
/// device's own forwarding table) on `ifindex`: `mac` reached at `dst`.
net::NlMsg neighRequest(int family, int ifindex, const net::IpAddress& dst,
                        const std::array<uint8_t, 6>& mac) {
    ndmsg ndm{};
    ndm.ndm_family = static_cast<uint8_t>(family);
    ndm.ndm_ifindex = ifindex;
    ndm.ndm_state = NUD_PERMANENT;
    if (family == AF_BRIDGE) ndm.ndm_flags = NTF_SELF;
    net::NlMsg msg = net::makeMessage(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, &ndm, sizeof ndm);
    nla_put(msg.get(), NDA_DST, 4, dst.bytes());
    nla_put(msg.get(), NDA_LLADDR, static_cast<int>(mac.size()), mac.data());
    return msg;
}

Status createNode(Fixture::State& s, const OverlaySpec& o, const OverlayNodeSpec& n) {
    std::string where = "overlay " + o.name + " on " + n.host;
    auto& sock = s.sockets.at(n.host);
    auto underlay = net::getLink(sock, n.dev);
    if (!underlay) return std::unexpected(underlay.error().wrap(where + ": look up " + n.dev));
    TRY(sock.transact(vxlanRequest(o, n, underlay->index), where + ": create " + o.device));
    auto dev = net::getLink(sock, o.device);
    if (!dev) return std::unexpected(dev.error().wrap(where + ": look up " + o.device));
    net::Address a{.ifindex = dev->index, .prefix = net::IpPrefix(n.subnet.network(), 32)};
    if (auto st = net::addAddress(sock, a); !st)
        return std::unexpected(st.error().wrap(where + ": add address " + a.prefix.str()));
    for (const auto& peer : o.nodes) {
        if (peer.host == n.host) continue;
        std::string to = where + ": towards " + peer.host;
        TRY(sock.transact(neighRequest(AF_INET, dev->index, peer.subnet.network(), vtepMac(peer)),
                          to + ": add neighbour " + peer.subnet.network().str()));
        TRY(sock.transact(neighRequest(AF_BRIDGE, dev->index, peer.underlay, vtepMac(peer)),
                          to + ": add fdb entry to " + peer.underlay.str()));
        net::Route r{
            .dst = peer.subnet, .gw = peer.subnet.network(), .ifindex = dev->index, .onlink = true};
        if (auto st = net::addRoute(sock, r); !st)
            return std::unexpected(st.error().wrap(to + ": add route " + peer.subnet.str()));
    }
    if (!o.masquerade) return {};
    // flannel: pod traffic leaving the cluster CIDR is masqueraded; pod-to-pod traffic is not.
    std::string cidr = o.clusterCidr.str();
    std::string script = "add table ip tether-overlay\n"
                         "add chain ip tether-overlay postrouting "
                         "{ type nat hook postrouting priority srcnat ; policy accept ; }\n"
                         "add rule ip tether-overlay postrouting ip saddr " +
                         cidr + " ip daddr != " + cidr + " masquerade\n";
    return net::inNetns(s.netns.at(n.host), [&]() -> Status {
        auto nft = net::Nft::open();
        if (!nft) return std::unexpected(nft.error().wrap(where + ": masquerade"));
        return nft->run(script, where + ": add masquerade rule");
    });
}

} // namespace

Status createOverlays(Fixture::State& s) {
    for (const auto& o : s.topology.overlays)
        for (const auto& n : o.nodes)
            TRY(createNode(s, o, n));
    return {};
}

} // namespace tether::fixture
