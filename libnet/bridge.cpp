#include "libnet/bridge.hpp"

#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

namespace tether::net {

namespace {

Status checkIsBridge(const LinkInfo& link) {
    if (link.kind != "bridge")
        return fail(Code::InvalidConfig, link.name + " exists and is not a bridge",
                    link.kind.empty() ? "" : "its kind is " + link.kind);
    return {};
}

NlMsg vlanFilteringMessage(int index, bool on, int flags) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    NlMsg msg = makeMessage(RTM_NEWLINK, flags, &ifi, sizeof(ifi));
    nlattr* linkinfo = nla_nest_start(msg.get(), IFLA_LINKINFO);
    nla_put_string(msg.get(), IFLA_INFO_KIND, "bridge");
    nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_DATA);
    nla_put_u8(msg.get(), IFLA_BR_VLAN_FILTERING, on ? 1 : 0);
    nla_nest_end(msg.get(), data);
    nla_nest_end(msg.get(), linkinfo);
    return msg;
}

Expected<LinkInfo> adoptExisting(NetlinkSocket& sock, LinkInfo link, const BridgeSpec& spec) {
    TRY(checkIsBridge(link));
    if (spec.vlanFiltering)
        TRY(sock.transact(vlanFilteringMessage(link.index, true, 0),
                          "enable vlan_filtering on bridge " + spec.name));
    if (spec.promisc && !link.promisc) {
        if (auto st = setLinkPromisc(sock, link.index, true); !st)
            return std::unexpected(st.error().wrap("bridge " + spec.name));
        link.promisc = true;
    }
    if (spec.up && !link.up) {
        if (auto st = setLinkUp(sock, link.index, true); !st)
            return std::unexpected(st.error().wrap("bridge " + spec.name));
        link.up = true;
    }
    return link;
}

} // namespace

Expected<LinkInfo> ensureBridge(NetlinkSocket& sock, const BridgeSpec& spec) {
    TRY(validateIfName(spec.name));
    std::optional<std::array<uint8_t, 6>> mac;
    if (!spec.mac.empty()) {
        mac = parseMac(spec.mac);
        if (!mac)
            return fail(Code::InvalidConfig, "invalid bridge MAC address \"" + spec.mac + "\"");
    }
    if (auto existing = TRY(findLink(sock, spec.name))) return adoptExisting(sock, *existing, spec);

    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    // Flags in the create request are applied by the kernel right after registering the device.
    ifi.ifi_change = (spec.up ? IFF_UP : 0) | (spec.promisc ? IFF_PROMISC : 0);
    ifi.ifi_flags = ifi.ifi_change;
    NlMsg msg = makeMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nla_put_string(msg.get(), IFLA_IFNAME, spec.name.c_str());
    if (spec.mtu) nla_put_u32(msg.get(), IFLA_MTU, spec.mtu);
    if (mac) nla_put(msg.get(), IFLA_ADDRESS, 6, mac->data());
    nlattr* linkinfo = nla_nest_start(msg.get(), IFLA_LINKINFO);
    nla_put_string(msg.get(), IFLA_INFO_KIND, "bridge");
    if (spec.vlanFiltering) {
        nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_DATA);
        nla_put_u8(msg.get(), IFLA_BR_VLAN_FILTERING, 1);
        nla_nest_end(msg.get(), data);
    }
    nla_nest_end(msg.get(), linkinfo);
    auto st = sock.transact(msg, "create bridge " + spec.name);
    if (!st && st.error().errnum == EOPNOTSUPP && spec.vlanFiltering) {
        Error e = std::move(st).error();
        if (e.details.empty())
            e.details = "vlan_filtering needs a kernel with CONFIG_BRIDGE_VLAN_FILTERING";
        return std::unexpected(std::move(e));
    }
    if (!st && st.error().errnum != EEXIST) return std::unexpected(std::move(st).error());
    // EEXIST: someone created it concurrently; validate what is there like any existing link.
    auto link = TRY(getLink(sock, spec.name));
    if (!st) return adoptExisting(sock, std::move(link), spec);
    TRY(checkIsBridge(link));
    return link;
}

Status setBridgePort(NetlinkSocket& sock, int portIndex, const BridgePortOptions& opts) {
    if (!opts.hairpin && !opts.isolated && !opts.learning) return {};
    ifinfomsg ifi{};
    ifi.ifi_family = AF_BRIDGE;
    ifi.ifi_index = portIndex;
    NlMsg msg = makeMessage(RTM_SETLINK, 0, &ifi, sizeof(ifi));
    // The kernel reads IFLA_PROTINFO as per-port attributes only when flagged nested.
    nlattr* prot = nla_nest_start(msg.get(), IFLA_PROTINFO | NLA_F_NESTED);
    if (opts.hairpin) nla_put_u8(msg.get(), IFLA_BRPORT_MODE, *opts.hairpin ? 1 : 0);
    if (opts.isolated) nla_put_u8(msg.get(), IFLA_BRPORT_ISOLATED, *opts.isolated ? 1 : 0);
    if (opts.learning) nla_put_u8(msg.get(), IFLA_BRPORT_LEARNING, *opts.learning ? 1 : 0);
    nla_nest_end(msg.get(), prot);
    return sock.transact(msg, "set bridge port options on link #" + std::to_string(portIndex));
}

namespace {

NlMsg vlanMessage(int type, int index, uint16_t vid, uint16_t flags, bool self) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_BRIDGE;
    ifi.ifi_index = index;
    NlMsg msg = makeMessage(type, 0, &ifi, sizeof(ifi));
    nlattr* spec = nla_nest_start(msg.get(), IFLA_AF_SPEC);
    nla_put_u16(msg.get(), IFLA_BRIDGE_FLAGS, self ? BRIDGE_FLAGS_SELF : BRIDGE_FLAGS_MASTER);
    bridge_vlan_info info{};
    info.vid = vid;
    info.flags = flags;
    nla_put(msg.get(), IFLA_BRIDGE_VLAN_INFO, sizeof(info), &info);
    nla_nest_end(msg.get(), spec);
    return msg;
}

} // namespace

Status addBridgeVlan(NetlinkSocket& sock, int index, const BridgeVlan& vlan, bool self) {
    if (vlan.vid < 1 || vlan.vid > 4094)
        return fail(Code::InvalidConfig,
                    "invalid VLAN id " + std::to_string(vlan.vid) + " (1-4094)");
    uint16_t flags =
        (vlan.pvid ? BRIDGE_VLAN_INFO_PVID : 0) | (vlan.untagged ? BRIDGE_VLAN_INFO_UNTAGGED : 0);
    return sock.transact(vlanMessage(RTM_SETLINK, index, vlan.vid, flags, self),
                         "add VLAN " + std::to_string(vlan.vid) + " on link #" +
                             std::to_string(index));
}

Status deleteBridgeVlan(NetlinkSocket& sock, int index, uint16_t vid, bool self) {
    auto st =
        sock.transact(vlanMessage(RTM_DELLINK, index, vid, 0, self),
                      "delete VLAN " + std::to_string(vid) + " on link #" + std::to_string(index));
    if (!st && st.error().errnum == ENOENT) return {};
    return st;
}

} // namespace tether::net
