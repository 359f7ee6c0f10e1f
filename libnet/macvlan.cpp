#include "libnet/macvlan.hpp"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "libnet/link_kind.hpp"
#include "libnet/route.hpp"

namespace tether::net {

std::optional<MacvlanMode> parseMacvlanMode(std::string_view text) {
    if (text.empty() || text == "bridge") return MacvlanMode::Bridge;
    if (text == "private") return MacvlanMode::Private;
    if (text == "vepa") return MacvlanMode::Vepa;
    if (text == "passthru") return MacvlanMode::Passthru;
    if (text == "source") return MacvlanMode::Source;
    return std::nullopt;
}

std::string macvlanModeName(MacvlanMode mode) {
    switch (mode) {
    case MacvlanMode::Bridge:
        return "bridge";
    case MacvlanMode::Private:
        return "private";
    case MacvlanMode::Vepa:
        return "vepa";
    case MacvlanMode::Passthru:
        return "passthru";
    case MacvlanMode::Source:
        return "source";
    }
    return "unknown(" + std::to_string(uint32_t(mode)) + ")";
}

Status createMacvlan(NetlinkSocket& sock, const MacvlanSpec& spec) {
    TRY(validateIfName(spec.name));
    if (spec.mtu != 0 && spec.mtu < 68)
        return fail(Code::InvalidConfig,
                    "invalid macvlan MTU " + std::to_string(spec.mtu) + " (minimum 68)");
    std::optional<std::array<uint8_t, 6>> mac;
    if (!spec.mac.empty()) {
        mac = parseMac(spec.mac);
        if (!mac) return fail(Code::InvalidConfig, "invalid MAC address \"" + spec.mac + "\"");
    }
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    NlMsg msg = makeMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_msg* m = msg.get();
    nla_put_string(m, IFLA_IFNAME, spec.name.c_str());
    nla_put_u32(m, IFLA_LINK, uint32_t(spec.masterIndex));
    if (spec.mtu) nla_put_u32(m, IFLA_MTU, spec.mtu);
    if (mac) nla_put(m, IFLA_ADDRESS, 6, mac->data());
    if (spec.netns) nla_put_u32(m, IFLA_NET_NS_FD, uint32_t(spec.netns->fd()));
    nlattr* linkinfo = nla_nest_start(m, IFLA_LINKINFO);
    nla_put_string(m, IFLA_INFO_KIND, "macvlan");
    nlattr* data = nla_nest_start(m, IFLA_INFO_DATA);
    nla_put_u32(m, IFLA_MACVLAN_MODE, uint32_t(spec.mode));
    if (spec.bcQueueLen) nla_put_u32(m, IFLA_MACVLAN_BC_QUEUE_LEN, *spec.bcQueueLen);
    nla_nest_end(m, data);
    nla_nest_end(m, linkinfo);
    auto st = sock.transact(msg, "create macvlan " + spec.name);
    if (!st && st.error().errnum == EEXIST) {
        Error e = std::move(st).error();
        e.code = Code::Conflict;
        e.msg = "interface " + spec.name + " already exists";
        return std::unexpected(std::move(e));
    }
    return st;
}

Expected<std::optional<MacvlanInfo>> getMacvlanInfo(NetlinkSocket& sock, int index) {
    MacvlanInfo info;
    const bool isMacvlan = TRY(readLinkOfKind(sock, index, "macvlan", [&](const KindAttrs& a) {
        if (a.link[IFLA_LINK]) info.parentIndex = int(nla_get_u32(a.link[IFLA_LINK]));
        if (a.link[IFLA_LINK_NETNSID]) info.linkNetnsId = nla_get_s32(a.link[IFLA_LINK_NETNSID]);
        nlattr* md[IFLA_MACVLAN_MAX + 1] = {};
        if (!a.data || nla_parse_nested(md, IFLA_MACVLAN_MAX, a.data, nullptr) != 0) return;
        if (md[IFLA_MACVLAN_MODE]) info.mode = MacvlanMode(nla_get_u32(md[IFLA_MACVLAN_MODE]));
        if (md[IFLA_MACVLAN_BC_QUEUE_LEN])
            info.bcQueueLen = nla_get_u32(md[IFLA_MACVLAN_BC_QUEUE_LEN]);
    }));
    if (!isMacvlan) return std::optional<MacvlanInfo>();
    return std::optional(info);
}

Expected<std::optional<LinkInfo>> defaultRouteLink(NetlinkSocket& sock) {
    for (Family f : {Family::V4, Family::V6}) {
        auto routes = TRY(listRoutes(sock, f, RT_TABLE_MAIN));
        for (const auto& r : routes) {
            if (r.dst.length() != 0 || r.ifindex == 0) continue;
            auto link = TRY(findLink(sock, r.ifindex));
            if (link) return link;
        }
    }
    return std::optional<LinkInfo>();
}

} // namespace tether::net
