// Persistent tap devices (/dev/net/tun): create one inside a network namespace with its owner,
// group and queue mode, and read those back over rtnetlink. The kernel cannot create tun/tap
// devices through RTM_NEWLINK (tun_newlink refuses), so creation goes through TUNSETIFF.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"

namespace tether::net {

/// What createTap makes.
struct TapSpec {
    std::string name;        ///< required; validated like any interface name (code 7)
    bool multiQueue = false; ///< IFF_MULTI_QUEUE
    bool vnetHdr = false;    ///< IFF_VNET_HDR
    std::optional<uint32_t>
        owner; ///< TUNSETOWNER; nullopt = no owner (only CAP_NET_ADMIN attaches)
    std::optional<uint32_t> group; ///< TUNSETGROUP; nullopt = no group
};

/// Creates the persistent tap `spec.name` (IFF_TAP | IFF_NO_PI, plus the flags above) in `ns`,
/// down, with the kernel's default MTU and a random MAC. A link of that name already in `ns`
/// -> code 102 Conflict (IFF_TUN_EXCL, errnum EEXIST/EBUSY); no /dev/net/tun or other failures
/// -> code 100 with the errno. On failure nothing is left (the device only persists at the end).
Status createTap(const Netns& ns, const TapSpec& spec);

/// A tun/tap device as the kernel reports it (IFLA_INFO_DATA of kind "tun").
struct TapInfo {
    bool tap = false;              ///< IFLA_TUN_TYPE == IFF_TAP (false: a tun device)
    bool multiQueue = false;       ///< IFLA_TUN_MULTI_QUEUE
    bool vnetHdr = false;          ///< IFLA_TUN_VNET_HDR
    bool persist = false;          ///< IFLA_TUN_PERSIST
    std::optional<uint32_t> owner; ///< IFLA_TUN_OWNER; nullopt when unset (uid -1)
    std::optional<uint32_t> group; ///< IFLA_TUN_GROUP; nullopt when unset (gid -1)
};

/// The tun/tap data of link `index`; nullopt when it is not a tun/tap device. A missing link ->
/// code 100 with errnum ENODEV.
Expected<std::optional<TapInfo>> getTapInfo(NetlinkSocket& sock, int index);

} // namespace tether::net
