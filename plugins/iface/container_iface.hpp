// Configures the container end of a link from a CNI result, as the reference's
// ipam.ConfigureIface does: addresses of the IPs that point at the interface, link up, routes.
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "cni/result.hpp"
#include "cni/skel.hpp"
#include "libnet/ip.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"

namespace tether::plugin {

struct IfaceConfig {
    int ifindex = 0;              ///< the link inside the container
    std::string ifname;           ///< its name (for sysctls and messages)
    int resultIndex = 0;          ///< index of the interface in result.interfaces
    bool dad = false;             ///< keep IPv6 duplicate address detection (slow); default off
    bool skipSubnetRoute = false; ///< add addresses with NOPREFIXROUTE (veth/ptp style)
    bool withRoutes = true;       ///< configureIface also adds the result's routes
};

/// The IPs of `result` whose `interface` equals cfg.resultIndex, as prefixes. Code 6 for an
/// unparsable address.
Expected<std::vector<net::IpPrefix>> ipsFor(const cni::Result& result, int resultIndex);

/// The gateway each route falls back to: the first gateway of the same family among ips.
std::optional<net::IpAddress> firstGateway(const cni::Result& result, net::Family family);

/// Adds the addresses (an existing identical one is fine), brings the link up and adds every
/// route of `result` (gw defaults to the first gateway of the route's family; a route whose
/// family has no address on the link is skipped). `ns` is the container netns (for sysctls),
/// `sock` a socket inside it. Errors name the address/route.
Status configureIface(net::NetlinkSocket& sock, const net::Netns& ns, const cni::Result& result,
                      const IfaceConfig& cfg);

/// Adds every route of `result` to the link (gw defaults to the first gateway of the route's
/// family; routes of a family with no address on the link are skipped; existing ones are fine).
Status addResultRoutes(net::NetlinkSocket& sock, const net::Netns& ns, const cni::Result& result,
                       const IfaceConfig& cfg);

/// Compares live addresses/routes of the link with `result` (CHECK): every IP for the interface
/// must be on the link and every route present. Errors say what is missing.
Status checkIface(net::NetlinkSocket& sock, const cni::Result& result, const IfaceConfig& cfg);

/// CHECK: the index in `prev.interfaces` of CNI_IFNAME in CNI_NETNS (the last such entry);
/// code 7 "prevResult has no interface <ifname> in <netns>" when there is none.
Expected<size_t> prevResultInterface(const cni::Result& prev, const cni::CmdArgs& args);

} // namespace tether::plugin
