#include "libnet/link.hpp"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cctype>
#include <cstring>

namespace tether::net {

namespace {

std::string linkLabel(int index) {
    return "link #" + std::to_string(index);
}

ifinfomsg ifinfo(int index) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    return ifi;
}

LinkInfo parseLink(const nlmsghdr* hdr) {
    auto* h = const_cast<nlmsghdr*>(hdr);
    auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(h));
    nlattr* tb[IFLA_MAX + 1] = {};
    LinkInfo info;
    info.index = ifi->ifi_index;
    info.up = ifi->ifi_flags & IFF_UP;
    info.running = ifi->ifi_flags & IFF_RUNNING;
    info.promisc = ifi->ifi_flags & IFF_PROMISC;
    if (nlmsg_parse(h, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return info;
    if (tb[IFLA_IFNAME]) info.name = nla_get_string(tb[IFLA_IFNAME]);
    if (tb[IFLA_ADDRESS])
        info.mac = formatMac(static_cast<const uint8_t*>(nla_data(tb[IFLA_ADDRESS])),
                             nla_len(tb[IFLA_ADDRESS]));
    if (tb[IFLA_MTU]) info.mtu = nla_get_u32(tb[IFLA_MTU]);
    if (tb[IFLA_MASTER]) info.masterIndex = static_cast<int>(nla_get_u32(tb[IFLA_MASTER]));
    if (tb[IFLA_LINK_NETNSID])
        info.linkNetnsId = static_cast<int>(nla_get_s32(tb[IFLA_LINK_NETNSID]));
    if (tb[IFLA_LINK]) {
        // Devices without a parent report themselves; a peer in another netns may share our index.
        int link = static_cast<int>(nla_get_u32(tb[IFLA_LINK]));
        if (link != info.index || info.linkNetnsId) info.peerIndex = link;
    }
    if (tb[IFLA_LINKINFO]) {
        nlattr* li[IFLA_INFO_MAX + 1] = {};
        if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) == 0 &&
            li[IFLA_INFO_KIND])
            info.kind = nla_get_string(li[IFLA_INFO_KIND]);
    }
    return info;
}

Expected<std::optional<LinkInfo>> getLinkBy(NetlinkSocket& sock, int index, std::string_view name) {
    ifinfomsg ifi = ifinfo(index);
    NlMsg msg = makeMessage(RTM_GETLINK, 0, &ifi, sizeof(ifi));
    if (!name.empty()) nla_put_string(msg.get(), IFLA_IFNAME, std::string(name).c_str());
    nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::optional<LinkInfo> found;
    std::string what = name.empty() ? "get " + linkLabel(index) : "get link " + std::string(name);
    auto st = sock.query(msg, what, [&](const nlmsghdr* h) {
        if (h->nlmsg_type == RTM_NEWLINK) found = parseLink(h);
    });
    if (!st) {
        if (st.error().errnum == ENODEV) return std::optional<LinkInfo>();
        return std::unexpected(std::move(st).error());
    }
    return found;
}

Status setLink(NetlinkSocket& sock, const NlMsg& msg, std::string_view what) {
    return sock.transact(msg, what);
}

} // namespace

Status validateIfName(std::string_view name) {
    if (name.empty() || name.size() > 15)
        return fail(Code::InvalidConfig,
                    "interface name \"" + std::string(name) + "\" must be 1 to 15 characters long");
    if (name == "." || name == "..")
        return fail(Code::InvalidConfig,
                    "interface name \"" + std::string(name) + "\" is not valid");
    for (char c : name)
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0')
            return fail(Code::InvalidConfig, "interface name \"" + std::string(name) +
                                                 "\" contains an invalid character");
    return {};
}

std::optional<std::array<uint8_t, 6>> parseMac(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    std::array<uint8_t, 6> out{};
    char sep = text[2];
    if (sep != ':' && sep != '-') return std::nullopt;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    for (size_t i = 0; i < 6; ++i) {
        int hi = hex(text[i * 3]), lo = hex(text[i * 3 + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        if (i < 5 && text[i * 3 + 2] != sep) return std::nullopt;
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return out;
}

std::string formatMac(const uint8_t* bytes, size_t len) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < len; ++i) {
        if (i) s += ':';
        s += digits[bytes[i] >> 4];
        s += digits[bytes[i] & 0xf];
    }
    return s;
}

Expected<std::optional<LinkInfo>> findLink(NetlinkSocket& sock, std::string_view name) {
    TRY(validateIfName(name));
    return getLinkBy(sock, 0, name);
}

Expected<std::optional<LinkInfo>> findLink(NetlinkSocket& sock, int index) {
    if (index <= 0) return std::optional<LinkInfo>();
    return getLinkBy(sock, index, {});
}

Expected<LinkInfo> getLink(NetlinkSocket& sock, std::string_view name) {
    auto link = TRY(findLink(sock, name));
    if (!link) return failErrno("link " + std::string(name) + " not found", ENODEV);
    return std::move(*link);
}

Status setLinkUp(NetlinkSocket& sock, int index, bool up) {
    ifinfomsg ifi = ifinfo(index);
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = up ? IFF_UP : 0;
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    return setLink(sock, msg, "set " + linkLabel(index) + (up ? " up" : " down"));
}

Status setLinkMtu(NetlinkSocket& sock, int index, uint32_t mtu) {
    ifinfomsg ifi = ifinfo(index);
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_MTU, mtu);
    return setLink(sock, msg, "set mtu " + std::to_string(mtu) + " on " + linkLabel(index));
}

Status setLinkMac(NetlinkSocket& sock, int index, std::string_view mac) {
    auto bytes = parseMac(mac);
    if (!bytes)
        return fail(Code::InvalidConfig, "invalid MAC address \"" + std::string(mac) + "\"");
    ifinfomsg ifi = ifinfo(index);
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nla_put(msg.get(), IFLA_ADDRESS, 6, bytes->data());
    return setLink(sock, msg, "set mac " + std::string(mac) + " on " + linkLabel(index));
}

Status setLinkMaster(NetlinkSocket& sock, int index, int masterIndex) {
    ifinfomsg ifi = ifinfo(index);
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_MASTER, static_cast<uint32_t>(masterIndex));
    return setLink(sock, msg,
                   masterIndex
                       ? "attach " + linkLabel(index) + " to master " + linkLabel(masterIndex)
                       : "release " + linkLabel(index) + " from its master");
}

Status setLinkPromisc(NetlinkSocket& sock, int index, bool on) {
    ifinfomsg ifi = ifinfo(index);
    ifi.ifi_change = IFF_PROMISC;
    ifi.ifi_flags = on ? IFF_PROMISC : 0;
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    return setLink(sock, msg,
                   std::string(on ? "enable" : "disable") + " promisc on " + linkLabel(index));
}

Status setLinkMasterUp(NetlinkSocket& sock, int index, int masterIndex) {
    ifinfomsg ifi = ifinfo(index);
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = IFF_UP;
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_MASTER, static_cast<uint32_t>(masterIndex));
    return setLink(sock, msg,
                   "attach " + linkLabel(index) + " to master " + linkLabel(masterIndex) +
                       " and set it up");
}

Status setLinkAfConf(NetlinkSocket& sock, int index, const LinkAfConf& conf) {
    if (conf.arpNotify) {
        ifinfomsg ifi = ifinfo(index);
        NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
        nlattr* spec = nla_nest_start(msg.get(), IFLA_AF_SPEC);
        nlattr* inet = nla_nest_start(msg.get(), AF_INET);
        nlattr* devconf = nla_nest_start(msg.get(), IFLA_INET_CONF);
        nla_put_u32(msg.get(), IPV4_DEVCONF_ARP_NOTIFY, *conf.arpNotify ? 1 : 0);
        nla_nest_end(msg.get(), devconf);
        nla_nest_end(msg.get(), inet);
        nla_nest_end(msg.get(), spec);
        TRY(setLink(sock, msg, "set arp_notify on " + linkLabel(index)));
    }
    if (conf.noIpv6LinkLocal) {
        ifinfomsg ifi = ifinfo(index);
        NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
        nlattr* spec = nla_nest_start(msg.get(), IFLA_AF_SPEC);
        nlattr* inet6 = nla_nest_start(msg.get(), AF_INET6);
        nla_put_u8(msg.get(), IFLA_INET6_ADDR_GEN_MODE,
                   *conf.noIpv6LinkLocal ? IN6_ADDR_GEN_MODE_NONE : IN6_ADDR_GEN_MODE_EUI64);
        nla_nest_end(msg.get(), inet6);
        nla_nest_end(msg.get(), spec);
        TRY(setLink(sock, msg, "set IPv6 addr_gen_mode on " + linkLabel(index)));
    }
    return {};
}

Status renameLink(NetlinkSocket& sock, int index, std::string_view newName) {
    TRY(validateIfName(newName));
    ifinfomsg ifi = ifinfo(index);
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nla_put_string(msg.get(), IFLA_IFNAME, std::string(newName).c_str());
    return setLink(sock, msg, "rename " + linkLabel(index) + " to " + std::string(newName));
}

Status moveLinkToNetns(NetlinkSocket& sock, int index, const Netns& target,
                       std::string_view newName) {
    if (!newName.empty()) TRY(validateIfName(newName));
    ifinfomsg ifi = ifinfo(index);
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_NET_NS_FD, static_cast<uint32_t>(target.fd()));
    if (!newName.empty()) nla_put_string(msg.get(), IFLA_IFNAME, std::string(newName).c_str());
    return setLink(sock, msg, "move " + linkLabel(index) + " to netns " + target.path());
}

Expected<bool> deleteLink(NetlinkSocket& sock, int index) {
    ifinfomsg ifi = ifinfo(index);
    NlMsg msg = makeMessage(RTM_DELLINK, 0, &ifi, sizeof(ifi));
    auto st = sock.transact(msg, "delete " + linkLabel(index));
    if (!st) {
        if (st.error().errnum == ENODEV) return false;
        return std::unexpected(std::move(st).error());
    }
    return true;
}

Expected<bool> deleteLink(NetlinkSocket& sock, std::string_view name) {
    TRY(validateIfName(name));
    ifinfomsg ifi = ifinfo(0);
    NlMsg msg = makeMessage(RTM_DELLINK, 0, &ifi, sizeof(ifi));
    nla_put_string(msg.get(), IFLA_IFNAME, std::string(name).c_str());
    auto st = sock.transact(msg, "delete link " + std::string(name));
    if (!st) {
        if (st.error().errnum == ENODEV) return false;
        return std::unexpected(std::move(st).error());
    }
    return true;
}

} // namespace tether::net
