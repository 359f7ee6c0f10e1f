#include "ipam/allocator.hpp"

#include <algorithm>
#include <limits>

namespace tether::ipam {

using net::IpAddress;
using net::IpPrefix;

namespace {

// Number of addresses in [a, b] (same family, a <= b), saturating.
uint64_t span(const IpAddress& a, const IpAddress& b) {
    const uint8_t* x = a.bytes();
    const uint8_t* y = b.bytes();
    const size_t n = a.size();
    // Difference as a big-endian integer; only the low 8 bytes matter unless it saturates.
    uint8_t diff[16]{};
    int borrow = 0;
    for (size_t i = n; i-- > 0;) {
        int d = int(y[i]) - int(x[i]) - borrow;
        borrow = d < 0;
        diff[i] = uint8_t(d + (borrow << 8));
    }
    for (size_t i = 0; i + 8 < n; ++i)
        if (diff[i] != 0) return std::numeric_limits<uint64_t>::max();
    uint64_t v = 0;
    for (size_t i = n >= 8 ? n - 8 : 0; i < n; ++i)
        v = (v << 8) | diff[i];
    return v == std::numeric_limits<uint64_t>::max() ? v : v + 1;
}

uint64_t reservedInside(const Range& r) {
    uint64_t k = 0;
    if (r.contains(r.gateway)) ++k;
    if (r.contains(r.subnet.network()) && r.subnet.network() != r.gateway) ++k;
    if (r.subnet.family() == net::Family::V4 && r.contains(r.subnet.last()) &&
        r.subnet.last() != r.gateway)
        ++k;
    return k;
}

struct Cursor {
    size_t range = 0;
    IpAddress ip;
    bool operator==(const Cursor&) const = default;
};

Cursor advance(const RangeSet& set, Cursor c) {
    if (c.ip == set[c.range].rangeEnd) {
        c.range = (c.range + 1) % set.size();
        c.ip = set[c.range].rangeStart;
    } else {
        c.ip = c.ip.next();
    }
    return c;
}

} // namespace

uint64_t capacity(const RangeSet& set) {
    uint64_t total = 0;
    for (const Range& r : set) {
        uint64_t n = span(r.rangeStart, r.rangeEnd);
        if (n == std::numeric_limits<uint64_t>::max()) return n;
        n -= std::min(n, reservedInside(r));
        if (total > std::numeric_limits<uint64_t>::max() - n)
            return std::numeric_limits<uint64_t>::max();
        total += n;
    }
    return total;
}

bool hasFreeAddress(const RangeSet& set, const std::vector<IpAddress>& reserved) {
    uint64_t used = 0;
    for (const IpAddress& ip : reserved) {
        const Range* r = rangeFor(set, ip);
        if (r && !r->isReserved(ip)) ++used;
    }
    return used < capacity(set);
}

Expected<Allocation> allocate(Store& store, const RangeSet& set, size_t setIndex,
                              const Owner& owner, const std::optional<IpAddress>& requested) {
    const std::string setText = rangeSetString(set);
    if (requested) {
        const Range* r = rangeFor(set, *requested);
        if (!r)
            return fail(Code::InvalidConfig,
                        "requested IP " + requested->str() + " is not in range set " + setText);
        if (*requested == r->gateway)
            return fail(Code::InvalidConfig,
                        "requested ip " + requested->str() + " is subnet's gateway");
        if (r->isReserved(*requested))
            return fail(Code::InvalidConfig, "requested ip " + requested->str() +
                                                 " is the network or broadcast address of " +
                                                 r->subnet.str());
        if (!TRY(store.reserve(owner, *requested, setIndex)))
            return fail(Code::Conflict, "requested IP address " + requested->str() +
                                            " is not available in range set " + setText);
        return Allocation{IpPrefix(*requested, r->subnet.length()), r->gateway, setIndex};
    }

    for (const IpAddress& held : TRY(store.findByOwner(owner, Lookup::Indexed)))
        if (rangeFor(set, held))
            return fail(Code::Conflict, held.str() + " has been allocated to " + owner.containerId +
                                            ", duplicate allocation is not allowed");

    Cursor start{0, set.front().rangeStart};
    if (auto last = store.lastReserved(setIndex)) {
        for (size_t i = 0; i < set.size(); ++i) {
            if (set[i].contains(*last)) {
                start = advance(set, Cursor{i, *last});
                break;
            }
        }
    }
    Cursor c = start;
    do {
        const Range& r = set[c.range];
        if (!r.isReserved(c.ip) && TRY(store.reserve(owner, c.ip, setIndex)))
            return Allocation{IpPrefix(c.ip, r.subnet.length()), r.gateway, setIndex};
        c = advance(set, c);
    } while (!(c == start));
    return fail(Code::Exhausted, "no IP addresses available in range set: " + setText);
}

} // namespace tether::ipam
