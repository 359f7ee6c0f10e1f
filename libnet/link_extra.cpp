#include "libnet/link_extra.hpp"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "libnet/link.hpp"

namespace tether::net {

namespace {

ifinfomsg ifinfo(int index) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    return ifi;
}

std::string label(int index) {
    return "link #" + std::to_string(index);
}

/// The attributes of one RTM_NEWLINK message; false when it does not parse.
bool parseAttrs(const nlmsghdr* hdr, nlattr** tb) {
    return nlmsg_parse(const_cast<nlmsghdr*>(hdr), sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) == 0;
}

std::string kindOf(nlattr* linkinfo) {
    if (!linkinfo) return {};
    nlattr* li[IFLA_INFO_MAX + 1] = {};
    if (nla_parse_nested(li, IFLA_INFO_MAX, linkinfo, nullptr) != 0 || !li[IFLA_INFO_KIND])
        return {};
    return nla_get_string(li[IFLA_INFO_KIND]);
}

} // namespace

Expected<LinkTuning> getLinkTuning(NetlinkSocket& sock, int index) {
    ifinfomsg ifi = ifinfo(index);
    NlMsg msg = makeMessage(RTM_GETLINK, 0, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::optional<LinkTuning> found;
    TRY(sock.query(msg, "get " + label(index), [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWLINK) return;
        auto* info = static_cast<const ifinfomsg*>(nlmsg_data(const_cast<nlmsghdr*>(h)));
        nlattr* tb[IFLA_MAX + 1] = {};
        if (!parseAttrs(h, tb)) return;
        LinkTuning t;
        t.promisc = info->ifi_flags & IFF_PROMISC;
        t.allmulti = info->ifi_flags & IFF_ALLMULTI;
        if (tb[IFLA_ADDRESS])
            t.mac = formatMac(static_cast<const uint8_t*>(nla_data(tb[IFLA_ADDRESS])),
                              static_cast<size_t>(nla_len(tb[IFLA_ADDRESS])));
        if (tb[IFLA_MTU]) t.mtu = nla_get_u32(tb[IFLA_MTU]);
        if (tb[IFLA_TXQLEN]) t.txQLen = nla_get_u32(tb[IFLA_TXQLEN]);
        found = t;
    }));
    if (!found)
        return std::unexpected(Error{Code::Kernel, label(index) + " not found", {}, ENODEV});
    return *found;
}

Status setLinkAllmulti(NetlinkSocket& sock, int index, bool on) {
    ifinfomsg ifi = ifinfo(index);
    ifi.ifi_change = IFF_ALLMULTI;
    ifi.ifi_flags = on ? IFF_ALLMULTI : 0;
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    return sock.transact(msg,
                         std::string(on ? "enable" : "disable") + " allmulti on " + label(index));
}

Status setLinkTxQLen(NetlinkSocket& sock, int index, uint32_t qlen) {
    ifinfomsg ifi = ifinfo(index);
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_TXQLEN, qlen);
    return sock.transact(msg, "set txqueuelen " + std::to_string(qlen) + " on " + label(index));
}

Expected<std::vector<LinkEntry>> listLinksOfKind(NetlinkSocket& sock, std::string_view kind) {
    ifinfomsg ifi = ifinfo(0);
    NlMsg msg = makeMessage(RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    // The kernel filters the dump by kind when it can; the check below covers older kernels.
    nlattr* li = nla_nest_start(msg.get(), IFLA_LINKINFO);
    nla_put_string(msg.get(), IFLA_INFO_KIND, std::string(kind).c_str());
    nla_nest_end(msg.get(), li);
    std::vector<LinkEntry> out;
    TRY(sock.query(msg, "list " + std::string(kind) + " links", [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWLINK) return;
        nlattr* tb[IFLA_MAX + 1] = {};
        if (!parseAttrs(h, tb) || kindOf(tb[IFLA_LINKINFO]) != kind) return;
        LinkEntry e;
        e.index = static_cast<const ifinfomsg*>(nlmsg_data(const_cast<nlmsghdr*>(h)))->ifi_index;
        if (tb[IFLA_IFNAME]) e.name = nla_get_string(tb[IFLA_IFNAME]);
        if (tb[IFLA_IFALIAS]) e.alias = nla_get_string(tb[IFLA_IFALIAS]);
        out.push_back(std::move(e));
    }));
    return out;
}

Expected<int> createIfb(NetlinkSocket& sock, const IfbSpec& spec) {
    TRY(validateIfName(spec.name));
    ifinfomsg ifi = ifinfo(0);
    if (spec.up) {
        ifi.ifi_change = IFF_UP;
        ifi.ifi_flags = IFF_UP;
    }
    NlMsg msg = makeMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nla_put_string(msg.get(), IFLA_IFNAME, spec.name.c_str());
    if (spec.mtu) nla_put_u32(msg.get(), IFLA_MTU, spec.mtu);
    nlattr* li = nla_nest_start(msg.get(), IFLA_LINKINFO);
    nla_put_string(msg.get(), IFLA_INFO_KIND, "ifb");
    nla_nest_end(msg.get(), li);
    if (auto st = sock.transact(msg, "create ifb " + spec.name); !st) {
        Error e = std::move(st).error();
        if (e.errnum == EEXIST) e.code = Code::Conflict;
        return std::unexpected(std::move(e));
    }
    auto link = TRY(getLink(sock, spec.name));
    // The kernel ignores IFLA_IFALIAS and IFLA_TXQLEN when creating a link: set them afterwards.
    if (!spec.alias.empty() || spec.txQLen) {
        ifinfomsg set = ifinfo(link.index);
        NlMsg m = makeMessage(RTM_NEWLINK, 0, &set, sizeof(set));
        if (!spec.alias.empty()) nla_put_string(m.get(), IFLA_IFALIAS, spec.alias.c_str());
        if (spec.txQLen) nla_put_u32(m.get(), IFLA_TXQLEN, spec.txQLen);
        if (auto st = sock.transact(m, "set alias of ifb " + spec.name); !st) {
            (void)deleteLink(sock, link.index);
            return std::unexpected(std::move(st).error());
        }
    }
    return link.index;
}

} // namespace tether::net
