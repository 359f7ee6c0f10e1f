#include <catch2/catch.hpp>

#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "tests/netns/libnet/test_links.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::net;

namespace {

nlohmann::json addrInfo(test::ScratchNetns& ns, const std::string& dev) {
    auto r = ns.exec({"ip", "-j", "addr", "show", "dev", dev});
    REQUIRE(r.exitCode == 0);
    return r.json().at(0).at("addr_info");
}

const nlohmann::json* findAddr(const nlohmann::json& info, const std::string& local) {
    for (const auto& a : info)
        if (a.at("local") == local) return &a;
    return nullptr;
}

} // namespace

TEST_CASE("add, list and delete addresses", "[addr]") {
    test::ScratchNetns ns;
    int idx = test::makeTestLink(ns, "d0");
    REQUIRE(addAddress(ns.nl(), {idx, *IpPrefix::parse("10.1.2.3/24")}));
    Address v6{idx, *IpPrefix::parse("fd00::3/64")};
    v6.flags = kAddrNoDad | kAddrNoPrefixRoute;
    REQUIRE(addAddress(ns.nl(), v6));

    auto info = addrInfo(ns, "d0");
    auto* a4 = findAddr(info, "10.1.2.3");
    REQUIRE(a4);
    CHECK(a4->at("prefixlen") == 24);
    CHECK(a4->at("broadcast") == "10.1.2.255");
    auto* a6 = findAddr(info, "fd00::3");
    REQUIRE(a6);
    CHECK(a6->at("prefixlen") == 64);
    CHECK(a6->value("nodad", false));
    CHECK(a6->value("noprefixroute", false));
    // NOPREFIXROUTE: no fd00::/64 route was installed.
    CHECK_THAT(ns.exec({"ip", "-6", "route", "show", "dev", "d0"}).out,
               !Catch::Contains("fd00::/64"));

    auto dup = addAddress(ns.nl(), {idx, *IpPrefix::parse("10.1.2.3/24")});
    REQUIRE_FALSE(dup);
    CHECK(dup.error().errnum == EEXIST);
    CHECK(dup.error().code == Code::Conflict);

    auto all = listAddresses(ns.nl(), idx);
    REQUIRE(all);
    CHECK(all->size() >= 2);
    auto v4only = listAddresses(ns.nl(), idx, Family::V4);
    REQUIRE(v4only);
    REQUIRE(v4only->size() == 1);
    CHECK(v4only->at(0).prefix.str() == "10.1.2.3/24");
    CHECK(v4only->at(0).ifindex == idx);
    auto v6only = listAddresses(ns.nl(), idx, Family::V6);
    REQUIRE(v6only);
    bool found = false;
    for (const auto& a : *v6only)
        if (a.prefix.str() == "fd00::3/64") {
            found = true;
            CHECK((a.flags & kAddrNoDad) != 0);
        }
    CHECK(found);
    auto lo = listAddresses(ns.nl(), 1, Family::V4);
    REQUIRE(lo);
    REQUIRE(lo->size() == 1);
    CHECK(lo->at(0).prefix.str() == "127.0.0.1/8");

    auto del = deleteAddress(ns.nl(), idx, *IpPrefix::parse("10.1.2.3/24"));
    REQUIRE(del);
    CHECK(*del);
    CHECK_FALSE(findAddr(addrInfo(ns, "d0"), "10.1.2.3"));
    auto again = deleteAddress(ns.nl(), idx, *IpPrefix::parse("10.1.2.3/24"));
    REQUIRE(again);
    CHECK_FALSE(*again);
}

TEST_CASE("point-to-point address with a peer", "[addr]") {
    test::ScratchNetns ns;
    int idx = test::makeTestLink(ns, "d1");
    Address a{idx, *IpPrefix::parse("10.5.0.1/32")};
    a.peer = IpAddress::parse("10.5.0.2");
    REQUIRE(addAddress(ns.nl(), a));
    auto info = addrInfo(ns, "d1");
    auto* found = findAddr(info, "10.5.0.1");
    REQUIRE(found);
    CHECK(found->at("address") == "10.5.0.2");
    auto list = listAddresses(ns.nl(), idx, Family::V4);
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    REQUIRE(list->at(0).peer);
    CHECK(list->at(0).peer->str() == "10.5.0.2");
}
