#include "libnet/addr.hpp"

#include <linux/if_addr.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "libnet/nl_ip_attr.hpp"

namespace tether::net {

namespace {

using detail::afOf;
using detail::getIp;
using detail::putIp;

std::string describe(int ifindex, const IpPrefix& p) {
    return p.str() + " on link #" + std::to_string(ifindex);
}

} // namespace

Status addAddress(NetlinkSocket& sock, const Address& addr) {
    if (addr.ifindex <= 0)
        return fail(Code::InvalidConfig, "add address " + addr.prefix.str() + ": no link");
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<uint8_t>(afOf(addr.prefix.family()));
    ifa.ifa_prefixlen = static_cast<uint8_t>(addr.prefix.length());
    ifa.ifa_flags = static_cast<uint8_t>(addr.flags & 0xff);
    ifa.ifa_scope = addr.scope;
    ifa.ifa_index = static_cast<uint32_t>(addr.ifindex);
    NlMsg msg = makeMessage(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
    const IpAddress& local = addr.prefix.address();
    putIp(msg.get(), IFA_LOCAL, local);
    putIp(msg.get(), IFA_ADDRESS, addr.peer ? *addr.peer : local);
    if (addr.broadcast) {
        putIp(msg.get(), IFA_BROADCAST, *addr.broadcast);
    } else if (local.isV4() && addr.prefix.length() < 31) {
        // As the reference plugins (vishvananda/netlink) do: IPv4 gets the prefix's broadcast.
        putIp(msg.get(), IFA_BROADCAST, addr.prefix.last());
    }
    if (addr.flags > 0xff) nla_put_u32(msg.get(), IFA_FLAGS, addr.flags);
    if (!addr.label.empty()) nla_put_string(msg.get(), IFA_LABEL, addr.label.c_str());
    auto st = sock.transact(msg, "add address " + describe(addr.ifindex, addr.prefix));
    if (!st && st.error().errnum == EEXIST) {
        Error e = std::move(st).error();
        e.code = Code::Conflict;
        return std::unexpected(std::move(e));
    }
    return st;
}

Expected<bool> deleteAddress(NetlinkSocket& sock, int ifindex, const IpPrefix& prefix) {
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<uint8_t>(afOf(prefix.family()));
    ifa.ifa_prefixlen = static_cast<uint8_t>(prefix.length());
    ifa.ifa_index = static_cast<uint32_t>(ifindex);
    NlMsg msg = makeMessage(RTM_DELADDR, 0, &ifa, sizeof(ifa));
    putIp(msg.get(), IFA_LOCAL, prefix.address());
    auto st = sock.transact(msg, "delete address " + describe(ifindex, prefix));
    if (!st) {
        int e = st.error().errnum;
        if (e == EADDRNOTAVAIL || e == ENODEV || e == ESRCH) return false;
        return std::unexpected(std::move(st).error());
    }
    return true;
}

Expected<std::vector<Address>> listAddresses(NetlinkSocket& sock, int ifindex,
                                             std::optional<Family> family) {
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<uint8_t>(family ? afOf(*family) : AF_UNSPEC);
    ifa.ifa_index = static_cast<uint32_t>(ifindex > 0 ? ifindex : 0);
    NlMsg msg = makeMessage(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
    std::vector<Address> out;
    TRY(sock.query(msg, "list addresses", [&](const nlmsghdr* hdr) {
        if (hdr->nlmsg_type != RTM_NEWADDR) return;
        auto* h = const_cast<nlmsghdr*>(hdr);
        auto* m = static_cast<ifaddrmsg*>(nlmsg_data(h));
        if (ifindex > 0 && static_cast<int>(m->ifa_index) != ifindex) return;
        if (m->ifa_family != AF_INET && m->ifa_family != AF_INET6) return;
        Family f = m->ifa_family == AF_INET ? Family::V4 : Family::V6;
        if (family && *family != f) return;
        nlattr* tb[IFA_MAX + 1] = {};
        if (nlmsg_parse(h, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0) return;
        auto local = getIp(tb[IFA_LOCAL], f);
        auto address = getIp(tb[IFA_ADDRESS], f);
        if (!local && !address) return;
        Address a;
        a.ifindex = static_cast<int>(m->ifa_index);
        a.prefix = IpPrefix(local ? *local : *address, m->ifa_prefixlen);
        if (local && address && *local != *address) a.peer = address;
        a.broadcast = getIp(tb[IFA_BROADCAST], f);
        a.flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : m->ifa_flags;
        a.scope = m->ifa_scope;
        if (tb[IFA_LABEL]) a.label = nla_get_string(tb[IFA_LABEL]);
        out.push_back(std::move(a));
    }));
    return out;
}

} // namespace tether::net
