#include <catch2/catch.hpp>

#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/route.hpp"
#include "tests/netns/libnet/test_links.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::net;

namespace {

nlohmann::json ipRoute(test::ScratchNetns& ns, const std::vector<std::string>& extra) {
    std::vector<std::string> argv{"ip", "-j", "-d"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = ns.exec(argv);
    REQUIRE(r.exitCode == 0);
    return r.json();
}

} // namespace

TEST_CASE("add, replace, list and delete IPv4 routes", "[route]") {
    test::ScratchNetns ns;
    int idx = test::makeTestLink(ns, "d0");
    REQUIRE(addAddress(ns.nl(), {idx, *IpPrefix::parse("10.9.0.2/24")}));

    Route r;
    r.dst = *IpPrefix::parse("10.20.0.0/16");
    r.gw = IpAddress::parse("10.9.0.254");
    r.ifindex = idx;
    r.metric = 100;
    r.mtu = 1300;
    r.advmss = 1200;
    r.src = IpAddress::parse("10.9.0.2");
    REQUIRE(addRoute(ns.nl(), r));
    auto j = ipRoute(ns, {"route", "show", "10.20.0.0/16"});
    REQUIRE(j.size() == 1);
    CHECK(j[0].at("gateway") == "10.9.0.254");
    CHECK(j[0].at("dev") == "d0");
    CHECK(j[0].at("metric") == 100);
    CHECK(j[0].at("prefsrc") == "10.9.0.2");
    CHECK(j[0].at("metrics").dump().find("1300") != std::string::npos);
    CHECK(j[0].at("metrics").dump().find("1200") != std::string::npos);

    auto dup = addRoute(ns.nl(), r);
    REQUIRE_FALSE(dup);
    CHECK(dup.error().errnum == EEXIST);
    CHECK(dup.error().code == Code::Conflict);

    r.mtu = 1280;
    REQUIRE(replaceRoute(ns.nl(), r));
    j = ipRoute(ns, {"route", "show", "10.20.0.0/16"});
    REQUIRE(j.size() == 1);
    CHECK(j[0].at("metrics").dump().find("1280") != std::string::npos);

    Route def = defaultRoute(*IpAddress::parse("10.9.0.1"), idx);
    REQUIRE(addRoute(ns.nl(), def));
    j = ipRoute(ns, {"route", "show", "default"});
    REQUIRE(j.size() == 1);
    CHECK(j[0].at("gateway") == "10.9.0.1");

    auto list = listRoutes(ns.nl(), Family::V4);
    REQUIRE(list);
    bool sawDefault = false, sawNet = false;
    for (const auto& rt : *list) {
        if (rt.dst.str() == "0.0.0.0/0") sawDefault = rt.gw && rt.gw->str() == "10.9.0.1";
        if (rt.dst.str() == "10.20.0.0/16") {
            sawNet = true;
            CHECK(rt.metric == 100);
            CHECK(rt.mtu == 1280);
            CHECK(rt.advmss == 1200);
            CHECK(rt.ifindex == idx);
        }
    }
    CHECK(sawDefault);
    CHECK(sawNet);

    auto del = deleteRoute(ns.nl(), r);
    REQUIRE(del);
    CHECK(*del);
    CHECK(ipRoute(ns, {"route", "show", "10.20.0.0/16"}).empty());
    auto again = deleteRoute(ns.nl(), r);
    REQUIRE(again);
    CHECK_FALSE(*again);
}

TEST_CASE("link-scope route, other table and IPv6", "[route]") {
    test::ScratchNetns ns;
    int idx = test::makeTestLink(ns, "d1");
    Route link;
    link.dst = *IpPrefix::parse("192.168.50.0/24");
    link.ifindex = idx;
    link.table = 1234;
    REQUIRE(addRoute(ns.nl(), link));
    auto j = ipRoute(ns, {"route", "show", "table", "1234"});
    REQUIRE(j.size() == 1);
    CHECK(j[0].at("scope") == "link");
    auto inTable = listRoutes(ns.nl(), Family::V4, 1234);
    REQUIRE(inTable);
    REQUIRE(inTable->size() == 1);
    CHECK(inTable->at(0).table == 1234);
    auto mainOnly = listRoutes(ns.nl(), Family::V4);
    REQUIRE(mainOnly);
    for (const auto& rt : *mainOnly)
        CHECK(rt.dst.str() != "192.168.50.0/24");

    REQUIRE(addAddress(ns.nl(), {idx, *IpPrefix::parse("fd01::2/64"), {}, {}, kAddrNoDad}));
    Route v6 = defaultRoute(*IpAddress::parse("fd01::1"), idx);
    v6.metric = 1024;
    REQUIRE(addRoute(ns.nl(), v6));
    auto j6 = ipRoute(ns, {"-6", "route", "show", "default"});
    REQUIRE(j6.size() == 1);
    CHECK(j6[0].at("gateway") == "fd01::1");
    auto del = deleteRoute(ns.nl(), v6);
    REQUIRE(del);
    CHECK(*del);
    CHECK(ipRoute(ns, {"-6", "route", "show", "default"}).empty());

    Route mixed = defaultRoute(*IpAddress::parse("10.0.0.1"), idx);
    mixed.dst = *IpPrefix::parse("::/0");
    CHECK_FALSE(addRoute(ns.nl(), mixed));
}
