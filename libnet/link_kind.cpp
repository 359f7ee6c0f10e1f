#include "libnet/link_kind.hpp"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <string>

#include <netlink/attr.h>
#include <netlink/msg.h>

namespace tether::net {

Expected<bool> readLinkOfKind(NetlinkSocket& sock, int index, std::string_view kind,
                              const std::function<void(const KindAttrs&)>& onKind) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    NlMsg msg = makeMessage(RTM_GETLINK, 0, &ifi, sizeof(ifi));
    nla_put_u32(msg.get(), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    bool found = false, ofKind = false;
    TRY(sock.query(msg, "get link #" + std::to_string(index), [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWLINK) return;
        found = true;
        auto* hdr = const_cast<nlmsghdr*>(h);
        nlattr* tb[IFLA_MAX + 1] = {};
        if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0 || !tb[IFLA_LINKINFO])
            return;
        nlattr* li[IFLA_INFO_MAX + 1] = {};
        if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) != 0 ||
            !li[IFLA_INFO_KIND] || std::string_view(nla_get_string(li[IFLA_INFO_KIND])) != kind)
            return;
        ofKind = true;
        onKind({.link = tb, .data = li[IFLA_INFO_DATA]});
    }));
    if (!found) return failErrno("link #" + std::to_string(index) + " not found", ENODEV);
    return ofKind;
}

} // namespace tether::net
