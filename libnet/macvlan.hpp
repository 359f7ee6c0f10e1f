// macvlan devices over rtnetlink: created in one request with the new device born inside the
// container netns (IFLA_NET_NS_FD), so it never appears under a wrong name in the host; and the
// attributes CHECK compares (mode, parent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"

namespace tether::net {

/// IFLA_MACVLAN_MODE values (linux/if_link.h MACVLAN_MODE_*).
enum class MacvlanMode : uint32_t {
    Private = 1,
    Vepa = 2,
    Bridge = 4,
    Passthru = 8,
    Source = 16,
};

/// "bridge", "private", "vepa", "passthru", "source" (empty = bridge); nullopt for anything else.
std::optional<MacvlanMode> parseMacvlanMode(std::string_view text);
/// The name of a mode as parseMacvlanMode accepts it; "unknown(<n>)" for other values.
std::string macvlanModeName(MacvlanMode mode);

struct MacvlanSpec {
    std::string name;    ///< the new device's name; required
    int masterIndex = 0; ///< parent device, in the socket's netns; required
    MacvlanMode mode = MacvlanMode::Bridge;
    const Netns* netns = nullptr;       ///< where the device is born; nullptr = the socket's netns
    uint32_t mtu = 0;                   ///< 0 = the master's
    std::string mac;                    ///< empty = kernel-random
    std::optional<uint32_t> bcQueueLen; ///< IFLA_MACVLAN_BC_QUEUE_LEN; nullopt = kernel default
};

/// Creates the macvlan (NLM_F_EXCL) through `sock` (the master's netns). Errors: invalid name or
/// MAC, MTU below 68 -> code 7; a device of that name already in the target netns -> code 102
/// Conflict errnum EEXIST; other kernel errors code 100 with the kernel's message (for example
/// EINVAL for an MTU above the master's, EBUSY for a second passthru device on one master).
Status createMacvlan(NetlinkSocket& sock, const MacvlanSpec& spec);

/// What a macvlan link reports: its mode and parent. nullopt when `index` is not a macvlan;
/// a missing link is code 100 errnum ENODEV.
struct MacvlanInfo {
    MacvlanMode mode = MacvlanMode::Bridge;
    int parentIndex = 0;                ///< IFLA_LINK (in linkNetnsId's netns when set)
    std::optional<int> linkNetnsId;     ///< IFLA_LINK_NETNSID when the parent is elsewhere
    std::optional<uint32_t> bcQueueLen; ///< what was requested for this device
};
Expected<std::optional<MacvlanInfo>> getMacvlanInfo(NetlinkSocket& sock, int index);

/// The link that carries the first default route (IPv4, then IPv6) of the main table in the
/// socket's netns, or nullopt when there is none.
Expected<std::optional<LinkInfo>> defaultRouteLink(NetlinkSocket& sock);

} // namespace tether::net
