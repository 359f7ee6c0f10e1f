#include "plugins/host-device/restore.hpp"

#include <cerrno>

#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/link_dump.hpp"
#include "libnet/netns.hpp"

namespace tether::hostdevice {

Status restoreInHost(net::NetlinkSocket& host, const Saved& s) {
    auto link = TRY(net::getLink(host, s.name));
    if (s.mtu != 0 && link.mtu != s.mtu) TRY(net::setLinkMtu(host, link.index, s.mtu));
    TRY(net::setLinkAlias(host, link.index, s.alias));
    if (s.up) TRY(net::setLinkUp(host, link.index, true));
    for (const auto& text : s.addresses) {
        auto p = net::IpPrefix::parse(text);
        if (!p) continue;
        net::Address a{.ifindex = link.index, .prefix = *p};
        if (!p->address().isV4()) a.flags |= net::kAddrNoDad;
        auto st = net::addAddress(host, a);
        if (!st && st.error().errnum != EEXIST)
            return std::unexpected(st.error().wrap("restore address " + text + " on " + s.name));
    }
    return {};
}

Status moveToHost(net::NetlinkSocket& csock, int index, const std::string& name,
                  const std::string& ifname) {
    auto hostNs = TRY(net::Netns::current());
    auto st = net::moveLinkToNetns(csock, index, hostNs, name);
    if (!st && st.error().errnum == EEXIST)
        return fail(Code::Conflict, "cannot return " + ifname + " to the host as " + name +
                                        ": the name is taken there");
    if (!st)
        return std::unexpected(st.error().wrap("return " + ifname + " to the host as " + name));
    return {};
}

} // namespace tether::hostdevice
