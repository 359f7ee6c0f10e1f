// Picks and reserves one address per range set, with the reference host-local rules.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "ipam/range.hpp"
#include "ipam/store.hpp"
#include "libnet/ip.hpp"

namespace tether::ipam {

/// One reserved address: the address with its range's prefix length, and the range's gateway.
struct Allocation {
    net::IpPrefix address;
    net::IpAddress gateway;
    size_t setIndex = 0;
};

/// Reserves an address of `set` (range set number `setIndex`) for `owner`.
/// - With `requested`: it must lie in a range of the set (code 7 "requested IP 10.0.0.9 is not
///   in range set ..."), must not be the gateway, network or broadcast address (code 7) and must
///   be free (code 102 "requested IP address 10.0.0.5 is not available in range set ...").
/// - Without: fails (code 102 "... duplicate allocation is not allowed") when `owner` already
///   holds an address of the set according to its index; then walks the set round-robin from
///   the last reserved address + 1 (rangeStart when there is none or it left the set), across
///   ranges and wrapping, skipping gateway, network and broadcast, and reserves the first free
///   address. Exhausted: code 101 "no IP addresses available in range set: 10.0.0.2-10.0.0.6".
Expected<Allocation> allocate(Store& store, const RangeSet& set, size_t setIndex,
                              const Owner& owner, const std::optional<net::IpAddress>& requested);

/// Number of addresses of `set` that can be handed out (saturates at UINT64_MAX).
uint64_t capacity(const RangeSet& set);

/// Whether some address of `set` is free given the reserved `addresses` (STATUS).
bool hasFreeAddress(const RangeSet& set, const std::vector<net::IpAddress>& reserved);

} // namespace tether::ipam
