#include "libnet/tap.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "base/unique_fd.hpp"
#include "libnet/link.hpp"
#include "libnet/link_kind.hpp"

namespace tether::net {

namespace {

constexpr uint32_t kUnset = uint32_t(-1);

Status ioctlStep(int fd, unsigned long req, unsigned long arg, const std::string& what) {
    if (::ioctl(fd, req, arg) < 0) return failErrno(what, errno);
    return {};
}

// Runs in the target netns: the device belongs to the netns /dev/net/tun was opened in.
Status createHere(const TapSpec& spec) {
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) return failErrno("open /dev/net/tun", errno);
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, spec.name.data(), spec.name.size());
    ifr.ifr_flags = short(IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL);
    if (spec.multiQueue) ifr.ifr_flags = short(ifr.ifr_flags | IFF_MULTI_QUEUE);
    if (spec.vnetHdr) ifr.ifr_flags = short(ifr.ifr_flags | IFF_VNET_HDR);
    const std::string what = "create tap " + spec.name;
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
        int e = errno;
        if (e == EBUSY || e == EEXIST) {
            Error err{.code = Code::Conflict, .msg = what + ": an interface of that name exists"};
            err.errnum = e;
            return std::unexpected(std::move(err));
        }
        return failErrno(what, e);
    }
    if (spec.owner) TRY(ioctlStep(fd.get(), TUNSETOWNER, *spec.owner, what + ": set owner"));
    if (spec.group) TRY(ioctlStep(fd.get(), TUNSETGROUP, *spec.group, what + ": set group"));
    // Last: until now closing the fd removes the device again.
    return ioctlStep(fd.get(), TUNSETPERSIST, 1, what + ": make persistent");
}

} // namespace

Status createTap(const Netns& ns, const TapSpec& spec) {
    TRY(validateIfName(spec.name));
    if (spec.owner == kUnset || spec.group == kUnset)
        return fail(Code::InvalidConfig, "tap " + spec.name + ": owner/group 4294967295 is unset");
    return inNetns(ns, [&] { return createHere(spec); });
}

Expected<std::optional<TapInfo>> getTapInfo(NetlinkSocket& sock, int index) {
    TapInfo info;
    const bool isTun = TRY(readLinkOfKind(sock, index, "tun", [&](const KindAttrs& a) {
        nlattr* td[IFLA_TUN_MAX + 1] = {};
        if (!a.data || nla_parse_nested(td, IFLA_TUN_MAX, a.data, nullptr) != 0) return;
        auto u8 = [&](int attr) { return td[attr] && nla_get_u8(td[attr]) != 0; };
        info.tap = td[IFLA_TUN_TYPE] && nla_get_u8(td[IFLA_TUN_TYPE]) == IFF_TAP;
        info.multiQueue = u8(IFLA_TUN_MULTI_QUEUE);
        info.vnetHdr = u8(IFLA_TUN_VNET_HDR);
        info.persist = u8(IFLA_TUN_PERSIST);
        if (td[IFLA_TUN_OWNER] && nla_get_u32(td[IFLA_TUN_OWNER]) != kUnset)
            info.owner = nla_get_u32(td[IFLA_TUN_OWNER]);
        if (td[IFLA_TUN_GROUP] && nla_get_u32(td[IFLA_TUN_GROUP]) != kUnset)
            info.group = nla_get_u32(td[IFLA_TUN_GROUP]);
    }));
    if (!isTun) return std::optional<TapInfo>();
    return std::optional(info);
}

} // namespace tether::net
