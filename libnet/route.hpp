// Routes over rtnetlink: add (EEXIST distinguishable), replace, delete, list.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <linux/rtnetlink.h>

#include "base/error.hpp"
#include "libnet/ip.hpp"
#include "libnet/netlink.hpp"

namespace tether::net {

/// One route (used to add/delete and as what listRoutes returns).
struct Route {
    IpPrefix dst;                   ///< 0.0.0.0/0 or ::/0 for a default route
    std::optional<IpAddress> gw;    ///< RTA_GATEWAY
    int ifindex = 0;                ///< RTA_OIF; 0 = let the kernel pick from gw
    std::optional<IpAddress> src;   ///< RTA_PREFSRC
    std::optional<uint8_t> scope;   ///< nullopt: link when no gw and ifindex set, else universe
    uint32_t table = RT_TABLE_MAIN; ///< RT_TABLE_MAIN (254) unless given
    uint32_t metric = 0;            ///< RTA_PRIORITY
    uint32_t mtu = 0;               ///< RTAX_MTU, 0 = none
    uint32_t advmss = 0;            ///< RTAX_ADVMSS, 0 = none
    uint8_t type = RTN_UNICAST;
    uint8_t protocol = RTPROT_BOOT; ///< as `ip route add` and the reference plugins use
    bool onlink = false;            ///< RTNH_F_ONLINK: gw reachable without a covering route
};

/// Default route via `gw` (family taken from gw) out of `ifindex` (0 = any).
Route defaultRoute(const IpAddress& gw, int ifindex = 0);

/// Adds the route (NLM_F_CREATE|NLM_F_EXCL). Existing route -> code 102 Conflict, errnum EEXIST.
Status addRoute(NetlinkSocket& sock, const Route& route);
/// Adds or replaces (NLM_F_CREATE|NLM_F_REPLACE).
Status replaceRoute(NetlinkSocket& sock, const Route& route);
/// Deletes the route matching dst/table/metric (and gw/ifindex when set). False if absent.
Expected<bool> deleteRoute(NetlinkSocket& sock, const Route& route);
/// Routes of `family` in `table` (RT_TABLE_UNSPEC = all tables), optionally only via `ifindex`.
/// Cached/cloned routes are skipped.
Expected<std::vector<Route>> listRoutes(NetlinkSocket& sock, Family family,
                                        uint32_t table = RT_TABLE_MAIN, int ifindex = 0);

} // namespace tether::net
