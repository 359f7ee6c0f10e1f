#include "ipam/range.hpp"

namespace tether::ipam {

using net::IpAddress;
using net::IpPrefix;

namespace {

std::string fieldName(std::string_view field, std::string_view key) {
    return std::string(field) + "." + std::string(key);
}

Expected<IpAddress> parseAddress(std::string_view field, std::string_view key,
                                 const std::string& text) {
    auto a = IpAddress::parse(text);
    if (!a)
        return fail(Code::InvalidConfig, fieldName(field, key) + ": invalid IP address: " + text);
    return *a;
}

} // namespace

bool Range::contains(const IpAddress& a) const {
    return subnet.contains(a) && !(a < rangeStart) && !(rangeEnd < a);
}

bool Range::overlaps(const Range& o) const {
    if (subnet.family() != o.subnet.family()) return false;
    return contains(o.rangeStart) || contains(o.rangeEnd) || o.contains(rangeStart) ||
           o.contains(rangeEnd);
}

bool Range::isReserved(const IpAddress& a) const {
    if (a == gateway || a == subnet.network()) return true;
    return a.isV4() && a == subnet.last();
}

std::string Range::str() const {
    return rangeStart.str() + "-" + rangeEnd.str();
}

Expected<Range> canonicalizeRange(const RangeSpec& spec, std::string_view field) {
    const std::string subnetField = fieldName(field, "subnet");
    if (spec.subnet.empty()) return fail(Code::InvalidConfig, subnetField + ": missing subnet");
    auto parsed = IpPrefix::parse(spec.subnet);
    if (!parsed)
        return fail(Code::InvalidConfig, subnetField + ": invalid CIDR address: " + spec.subnet);
    Range r;
    r.subnet = *parsed;
    const int bits = r.subnet.address().bits();
    if (r.subnet.length() > bits - 2)
        return fail(Code::InvalidConfig,
                    subnetField + ": network " + r.subnet.str() + " too small to allocate from");
    if (r.subnet.hasHostBits())
        return fail(Code::InvalidConfig,
                    subnetField + ": network has host bits set. For a subnet mask of length " +
                        std::to_string(r.subnet.length()) + " the network address is " +
                        r.subnet.network().str());
    const IpAddress first = r.subnet.network().next();

    auto sameFamily = [&](std::string_view key, const IpAddress& a) -> Status {
        if (a.family() != r.subnet.family())
            return fail(Code::InvalidConfig, fieldName(field, key) + ": " + a.str() +
                                                 " is not the address family of subnet " +
                                                 r.subnet.str());
        return {};
    };

    r.gateway = first;
    if (spec.gateway) {
        r.gateway = TRY(parseAddress(field, "gateway", *spec.gateway));
        TRY(sameFamily("gateway", r.gateway));
    }
    r.rangeStart = first;
    if (spec.rangeStart) {
        r.rangeStart = TRY(parseAddress(field, "rangeStart", *spec.rangeStart));
        if (!r.subnet.contains(r.rangeStart))
            return fail(Code::InvalidConfig, fieldName(field, "rangeStart") + ": RangeStart " +
                                                 r.rangeStart.str() + " not in network " +
                                                 r.subnet.str());
    }
    r.rangeEnd = r.subnet.last();
    if (r.rangeEnd.isV4()) r.rangeEnd = r.rangeEnd.prev();
    if (spec.rangeEnd) {
        r.rangeEnd = TRY(parseAddress(field, "rangeEnd", *spec.rangeEnd));
        if (!r.subnet.contains(r.rangeEnd))
            return fail(Code::InvalidConfig, fieldName(field, "rangeEnd") + ": RangeEnd " +
                                                 r.rangeEnd.str() + " not in network " +
                                                 r.subnet.str());
    }
    if (r.rangeEnd < r.rangeStart)
        return fail(Code::InvalidConfig, fieldName(field, "rangeEnd") + ": RangeEnd " +
                                             r.rangeEnd.str() + " is before RangeStart " +
                                             r.rangeStart.str());
    return r;
}

Expected<RangeSet> canonicalizeRangeSet(const std::vector<RangeSpec>& specs,
                                        std::string_view field) {
    if (specs.empty()) return fail(Code::InvalidConfig, std::string(field) + ": empty range set");
    RangeSet set;
    set.reserve(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
        const std::string f = std::string(field) + "[" + std::to_string(i) + "]";
        Range r = TRY(canonicalizeRange(specs[i], f));
        if (!set.empty() && r.subnet.family() != set.front().subnet.family())
            return fail(Code::InvalidConfig, f + ": mixed address families in one range set");
        set.push_back(r);
    }
    for (size_t i = 0; i < set.size(); ++i)
        for (size_t j = i + 1; j < set.size(); ++j)
            if (set[i].overlaps(set[j]))
                return fail(Code::InvalidConfig, std::string(field) + ": subnets " + set[i].str() +
                                                     " and " + set[j].str() + " overlap");
    return set;
}

const Range* rangeFor(const RangeSet& set, const IpAddress& a) {
    for (const Range& r : set)
        if (r.contains(a)) return &r;
    return nullptr;
}

bool setsOverlap(const RangeSet& a, const RangeSet& b) {
    for (const Range& x : a)
        for (const Range& y : b)
            if (x.overlaps(y)) return true;
    return false;
}

std::string rangeSetString(const RangeSet& set) {
    std::string s;
    for (const Range& r : set) {
        if (!s.empty()) s += ",";
        s += r.str();
    }
    return s;
}

} // namespace tether::ipam
