// Address ranges and range sets with the reference host-local semantics: defaults, validation
// (canonicalisation) and membership. Pure value code, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"

namespace tether::ipam {

/// A range as written in a config: every field optional except the subnet, all still text.
struct RangeSpec {
    std::string subnet;
    std::optional<std::string> rangeStart;
    std::optional<std::string> rangeEnd;
    std::optional<std::string> gateway;
};

/// A validated range. Invariants: subnet has no host bits and at least 4 addresses;
/// rangeStart <= rangeEnd, both inside subnet; all addresses of one family.
struct Range {
    net::IpPrefix subnet;
    net::IpAddress rangeStart; ///< default: subnet + 1
    net::IpAddress rangeEnd;   ///< default: last address of the subnet, minus 1 for IPv4
    net::IpAddress gateway;    ///< default: subnet + 1 (need not lie inside the subnet)

    /// True when `a` is in the subnet and within [rangeStart, rangeEnd].
    [[nodiscard]] bool contains(const net::IpAddress& a) const;
    /// True when the two ranges share an address (same family only).
    [[nodiscard]] bool overlaps(const Range& o) const;
    /// True for addresses never handed out: the gateway, the network address and, for IPv4, the
    /// broadcast address.
    [[nodiscard]] bool isReserved(const net::IpAddress& a) const;
    /// "10.0.0.2-10.0.0.254" (the reference's Range.String()).
    [[nodiscard]] std::string str() const;
};

/// One IP is allocated per range set; every range of a set has the same family.
using RangeSet = std::vector<Range>;

/// Applies defaults and validates one range. Messages start with `field` (e.g.
/// "ipam.ranges[0][1]") and the key, then the reference's wording:
/// "<field>.subnet: network 10.0.0.0/31 too small to allocate from",
/// "<field>.subnet: invalid CIDR address: 10.0.0.0/33",
/// "<field>.rangeStart: RangeStart 10.0.1.1 not in network 10.0.0.0/24". Code 7.
Expected<Range> canonicalizeRange(const RangeSpec& spec, std::string_view field);

/// Validates a set: non-empty, one family, no two ranges overlapping
/// ("<field>: subnets A and B overlap"). `field` names the set, e.g. "ipam.ranges[0]". Code 7.
Expected<RangeSet> canonicalizeRangeSet(const std::vector<RangeSpec>& specs,
                                        std::string_view field);

/// The range of `set` containing `a`, or nullptr.
const Range* rangeFor(const RangeSet& set, const net::IpAddress& a);

/// True when any range of `a` overlaps any range of `b`.
bool setsOverlap(const RangeSet& a, const RangeSet& b);

/// "10.0.0.2-10.0.0.6,10.0.1.2-10.0.1.6" (the reference's RangeSet.String()).
std::string rangeSetString(const RangeSet& set);

} // namespace tether::ipam
