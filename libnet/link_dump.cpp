#include "libnet/link_dump.hpp"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <optional>

#include "libnet/link.hpp"

namespace tether::net {

namespace {

LinkRecord parseRecord(const nlmsghdr* h) {
    auto* hdr = const_cast<nlmsghdr*>(h);
    auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(hdr));
    LinkRecord r;
    r.index = ifi->ifi_index;
    r.up = ifi->ifi_flags & IFF_UP;
    nlattr* tb[IFLA_MAX + 1] = {};
    if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return r;
    if (tb[IFLA_IFNAME]) r.name = nla_get_string(tb[IFLA_IFNAME]);
    if (tb[IFLA_IFALIAS]) r.alias = nla_get_string(tb[IFLA_IFALIAS]);
    if (tb[IFLA_MTU]) r.mtu = nla_get_u32(tb[IFLA_MTU]);
    if (tb[IFLA_ADDRESS])
        r.mac = formatMac(static_cast<const uint8_t*>(nla_data(tb[IFLA_ADDRESS])),
                          size_t(nla_len(tb[IFLA_ADDRESS])));
    if (tb[IFLA_LINKINFO]) {
        nlattr* li[IFLA_INFO_MAX + 1] = {};
        if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) == 0 &&
            li[IFLA_INFO_KIND])
            r.kind = nla_get_string(li[IFLA_INFO_KIND]);
    }
    return r;
}

} // namespace

Expected<std::vector<LinkRecord>> listLinks(NetlinkSocket& sock) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    NlMsg msg = makeMessage(RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::vector<LinkRecord> out;
    TRY(sock.query(msg, "list links", [&](const nlmsghdr* h) {
        if (h->nlmsg_type == RTM_NEWLINK) out.push_back(parseRecord(h));
    }));
    return out;
}

Expected<LinkRecord> getLinkRecord(NetlinkSocket& sock, int index) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    NlMsg msg = makeMessage(RTM_GETLINK, 0, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::optional<LinkRecord> found;
    TRY(sock.query(msg, "get link #" + std::to_string(index), [&](const nlmsghdr* h) {
        if (h->nlmsg_type == RTM_NEWLINK) found = parseRecord(h);
    }));
    if (!found) return failErrno("link #" + std::to_string(index) + " not found", ENODEV);
    return *found;
}

Status setLinkAlias(NetlinkSocket& sock, int index, std::string_view alias) {
    if (alias.size() > 255) return fail(Code::InvalidConfig, "link alias longer than 255 bytes");
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    NlMsg msg = makeMessage(RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    // An empty attribute (length 0, no NUL) is how the kernel is told to drop the alias.
    nla_put(msg.get(), IFLA_IFALIAS, int(alias.size()), alias.data());
    return sock.transact(msg, "set alias of link #" + std::to_string(index));
}

} // namespace tether::net
