// Gratuitous ARP: announce an IPv4 address and the MAC that owns it to the link's segment, so
// neighbours that cached an earlier owner of the address update at once (what the reference
// macvlan plugin does after configuring the container's addresses).
#pragma once

#include <string_view>

#include "base/error.hpp"
#include "libnet/ip.hpp"
#include "libnet/netns.hpp"

namespace tether::net {

/// Broadcasts one gratuitous ARP request (sender = target = `ip`, sender MAC = `mac`) out of link
/// `ifindex` of netns `ns`, through an AF_PACKET socket opened inside `ns`. The link must be up.
/// Code 7 for a non-IPv4 address or an invalid MAC; code 100 with errno when the socket or the
/// send fails.
Status sendGratuitousArp(const Netns& ns, int ifindex, std::string_view mac, const IpAddress& ip);

} // namespace tether::net
