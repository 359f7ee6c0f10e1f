#include <catch2/catch.hpp>

#include "ipam/range.hpp"

using namespace tether;
using namespace tether::ipam;
using tether::net::IpAddress;

namespace {

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

Range range(RangeSpec spec) {
    auto r = canonicalizeRange(spec, "r");
    REQUIRE(r);
    return *r;
}

std::string rangeError(RangeSpec spec) {
    auto r = canonicalizeRange(spec, "ipam.ranges[0][0]");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Code::InvalidConfig);
    return r.error().msg;
}

} // namespace

TEST_CASE("range defaults: gateway and start are subnet+1, IPv4 end excludes broadcast") {
    Range r = range({"10.1.2.0/24"});
    CHECK(r.gateway == ip("10.1.2.1"));
    CHECK(r.rangeStart == ip("10.1.2.1"));
    CHECK(r.rangeEnd == ip("10.1.2.254"));
    CHECK(r.str() == "10.1.2.1-10.1.2.254");

    Range v6 = range({"fd00:1::/120"});
    CHECK(v6.gateway == ip("fd00:1::1"));
    CHECK(v6.rangeStart == ip("fd00:1::1"));
    CHECK(v6.rangeEnd == ip("fd00:1::ff"));
}

TEST_CASE("range keeps explicit start, end and gateway") {
    Range r = range({"10.0.0.0/24", "10.0.0.100", "10.0.0.200", "10.0.0.254"});
    CHECK(r.rangeStart == ip("10.0.0.100"));
    CHECK(r.rangeEnd == ip("10.0.0.200"));
    CHECK(r.gateway == ip("10.0.0.254"));
    CHECK(r.contains(ip("10.0.0.100")));
    CHECK(r.contains(ip("10.0.0.200")));
    CHECK_FALSE(r.contains(ip("10.0.0.99")));
    CHECK_FALSE(r.contains(ip("10.0.0.201")));
    CHECK_FALSE(r.contains(ip("fd00::1")));
}

TEST_CASE("range validation names the field and says what is wrong") {
    CHECK(rangeError({"10.0.0.0/31"}) ==
          "ipam.ranges[0][0].subnet: network 10.0.0.0/31 too small to allocate from");
    CHECK(rangeError({"10.0.0.0/32"}).find("too small") != std::string::npos);
    CHECK(rangeError({"fd00::/127"}).find("fd00::/127 too small") != std::string::npos);
    CHECK(rangeError({"10.0.0.0/33"}) ==
          "ipam.ranges[0][0].subnet: invalid CIDR address: 10.0.0.0/33");
    CHECK(rangeError({"banana"}).find("invalid CIDR address: banana") != std::string::npos);
    CHECK(rangeError({""}) == "ipam.ranges[0][0].subnet: missing subnet");
    CHECK(rangeError({"10.0.0.1/24"}) ==
          "ipam.ranges[0][0].subnet: network has host bits set. For a subnet mask of length 24 "
          "the network address is 10.0.0.0");
    CHECK(rangeError({"10.0.0.0/24", "10.0.1.1"}) ==
          "ipam.ranges[0][0].rangeStart: RangeStart 10.0.1.1 not in network 10.0.0.0/24");
    CHECK(rangeError({"10.0.0.0/24", std::nullopt, "10.0.1.1"}) ==
          "ipam.ranges[0][0].rangeEnd: RangeEnd 10.0.1.1 not in network 10.0.0.0/24");
    CHECK(rangeError({"10.0.0.0/24", "10.0.0.50", "10.0.0.40"}).find("before RangeStart") !=
          std::string::npos);
    CHECK(rangeError({"10.0.0.0/24", std::nullopt, std::nullopt, "x"}) ==
          "ipam.ranges[0][0].gateway: invalid IP address: x");
    CHECK(rangeError({"10.0.0.0/24", std::nullopt, std::nullopt, "fd00::1"}).find("gateway") !=
          std::string::npos);
    CHECK(rangeError({"10.0.0.0/24", "fd00::5"}).find("rangeStart") != std::string::npos);
}

TEST_CASE("/30 and /126 are the smallest allocatable subnets") {
    Range r = range({"10.0.0.0/30"});
    CHECK(r.rangeStart == ip("10.0.0.1"));
    CHECK(r.rangeEnd == ip("10.0.0.2"));
    Range v6 = range({"fd00::/126"});
    CHECK(v6.rangeEnd == ip("fd00::3"));
}

TEST_CASE("reserved addresses: gateway, network, IPv4 broadcast") {
    Range r = range({"10.0.0.0/24", "10.0.0.0", "10.0.0.255", "10.0.0.7"});
    CHECK(r.isReserved(ip("10.0.0.0")));
    CHECK(r.isReserved(ip("10.0.0.255")));
    CHECK(r.isReserved(ip("10.0.0.7")));
    CHECK_FALSE(r.isReserved(ip("10.0.0.1")));
    Range v6 = range({"fd00::/120"});
    CHECK(v6.isReserved(ip("fd00::")));
    CHECK_FALSE(v6.isReserved(ip("fd00::ff")));
}

TEST_CASE("range sets: one family, no overlap, string form") {
    auto ok = canonicalizeRangeSet({{"10.0.0.0/24"}, {"10.0.1.0/24"}}, "ipam.ranges[0]");
    REQUIRE(ok);
    CHECK(rangeSetString(*ok) == "10.0.0.1-10.0.0.254,10.0.1.1-10.0.1.254");
    CHECK(rangeFor(*ok, ip("10.0.1.9")) == &(*ok)[1]);
    CHECK(rangeFor(*ok, ip("10.0.2.9")) == nullptr);

    auto overlap = canonicalizeRangeSet({{"10.0.0.0/24"}, {"10.0.0.0/25"}}, "ipam.ranges[0]");
    REQUIRE_FALSE(overlap);
    CHECK(overlap.error().msg ==
          "ipam.ranges[0]: subnets 10.0.0.1-10.0.0.254 and 10.0.0.1-10.0.0.126 overlap");

    // Same subnet, disjoint ranges: allowed.
    CHECK(canonicalizeRangeSet(
        {{"10.0.0.0/24", "10.0.0.10", "10.0.0.19"}, {"10.0.0.0/24", "10.0.0.20", "10.0.0.29"}},
        "s"));

    auto mixed = canonicalizeRangeSet({{"10.0.0.0/24"}, {"fd00::/64"}}, "ipam.ranges[1]");
    REQUIRE_FALSE(mixed);
    CHECK(mixed.error().msg.find("ipam.ranges[1][1]: mixed address families") == 0);

    auto empty = canonicalizeRangeSet({}, "ipam.ranges[2]");
    REQUIRE_FALSE(empty);
    CHECK(empty.error().msg == "ipam.ranges[2]: empty range set");

    auto bad = canonicalizeRangeSet({{"10.0.0.0/24"}, {"10.0.1.0/31"}}, "ipam.ranges[0]");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().msg.find("ipam.ranges[0][1].subnet") == 0);
}

TEST_CASE("range sets overlap across sets, not across families") {
    auto a = canonicalizeRangeSet({{"10.0.0.0/24"}}, "a");
    auto b = canonicalizeRangeSet({{"10.0.0.128/25"}}, "b");
    auto c = canonicalizeRangeSet({{"fd00::/64"}}, "c");
    REQUIRE((a && b && c));
    CHECK(setsOverlap(*a, *b));
    CHECK_FALSE(setsOverlap(*a, *c));
}
