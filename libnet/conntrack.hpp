// Conntrack entries over ctnetlink (libmnl): used by portmap to forget stale UDP flows of a host
// port, so a new mapping is not bypassed by an old entry (the reference's plugins#123).
#pragma once

#include <cstdint>
#include <vector>

#include "base/error.hpp"

namespace tether::net {

/// Deletes every conntrack entry in the calling thread's netns whose original direction has
/// protocol `proto` (e.g. IPPROTO_UDP) and destination port in `ports`, IPv4 and IPv6.
/// Returns how many were deleted; entries vanishing meanwhile are fine.
Expected<int> deleteConntrackByDstPort(uint8_t proto, const std::vector<uint16_t>& ports);

} // namespace tether::net
