// Interface addresses over rtnetlink: add (EEXIST distinguishable), delete, list per link.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "base/error.hpp"
#include "libnet/ip.hpp"
#include "libnet/netlink.hpp"

namespace tether::net {

/// IFA_F_* flags callers commonly pass.
inline constexpr uint32_t kAddrNoDad = IFA_F_NODAD;
inline constexpr uint32_t kAddrNoPrefixRoute = IFA_F_NOPREFIXROUTE;

/// One address on one link (used both to add and as what listAddresses returns).
struct Address {
    int ifindex = 0;
    IpPrefix prefix;               ///< the local address with its prefix length
    std::optional<IpAddress> peer; ///< IFA_ADDRESS when different (point-to-point)
    std::optional<IpAddress> broadcast;
    uint32_t flags = 0; ///< IFA_F_* (kAddrNoDad, kAddrNoPrefixRoute, ...)
    uint8_t scope = RT_SCOPE_UNIVERSE;
    std::string label; ///< IPv4 only; empty = the link name
};

/// Adds the address (NLM_F_CREATE|NLM_F_EXCL). An existing identical address fails with
/// code 102 Conflict and errnum EEXIST so callers can treat it as "already done".
Status addAddress(NetlinkSocket& sock, const Address& addr);
/// Deletes the address (ifindex + prefix). Returns false when it was not there.
Expected<bool> deleteAddress(NetlinkSocket& sock, int ifindex, const IpPrefix& prefix);
/// Addresses on link `ifindex` (0 = all links) of `family` (nullopt = both), kernel order.
Expected<std::vector<Address>> listAddresses(NetlinkSocket& sock, int ifindex,
                                             std::optional<Family> family = std::nullopt);

} // namespace tether::net
