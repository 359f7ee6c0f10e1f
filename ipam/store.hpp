// The reservation store seen by the allocator: which address belongs to which attachment.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"

namespace tether::ipam {

/// The attachment owning a reservation. `ifname` is empty for a legacy reservation that
/// recorded only the container ID.
struct Owner {
    std::string containerId;
    std::string ifname;
    bool operator==(const Owner&) const = default;
};

/// One reservation.
struct Lease {
    net::IpAddress ip;
    Owner owner; ///< both fields empty when the reservation is unreadable (e.g. an empty file)
};

/// How thoroughly findByOwner looks.
enum class Lookup {
    Indexed,  ///< the owner's index only (O(1)); misses reservations made by other implementations
    Thorough, ///< the index when present, else every reservation (finds any implementation's)
};

/// Reservation storage. Implementations serialise all calls of one instance against every other
/// process using the same store (the disk store holds its lock for its whole lifetime).
class Store {
  public:
    virtual ~Store() = default;

    /// Reserves `ip` for `owner` unless anyone holds it already (then returns false, changes
    /// nothing). On success records `ip` as the last address reserved for range set `setIndex`.
    virtual Expected<bool> reserve(const Owner& owner, const net::IpAddress& ip,
                                   size_t setIndex) = 0;

    /// The last address reserve() recorded for `setIndex`; nullopt when none or unreadable.
    virtual std::optional<net::IpAddress> lastReserved(size_t setIndex) = 0;

    /// Addresses held by `owner`. Like the reference, legacy reservations holding only the
    /// container ID count as held by any ifname of that container (Thorough lookups only).
    virtual Expected<std::vector<net::IpAddress>> findByOwner(const Owner& owner,
                                                              Lookup lookup) = 0;

    /// Releases `ip` when `owner` holds it; false (and nothing changed) otherwise.
    virtual Expected<bool> releaseIp(const net::IpAddress& ip, const Owner& owner) = 0;

    /// Releases every address held by `owner`; when none is held exactly, releases the legacy
    /// reservations of its container ID (reference behaviour). Returns how many were released;
    /// 0 when there were none (not an error: release is idempotent).
    virtual Expected<size_t> releaseOwner(const Owner& owner) = 0;

    /// Every reservation with its owner (reads them all: for GC, not for hot paths).
    virtual Expected<std::vector<Lease>> leases() = 0;

    /// Every reserved address, without reading owners.
    virtual Expected<std::vector<net::IpAddress>> reservedAddresses() = 0;

    /// Releases `ip` whoever holds it (GC of a reservation whose owner is gone or unreadable).
    virtual Expected<bool> forceRelease(const net::IpAddress& ip) = 0;
};

} // namespace tether::ipam
