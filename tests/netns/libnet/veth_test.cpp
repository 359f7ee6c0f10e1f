#include <catch2/catch.hpp>

#include <regex>

#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/veth.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::net;

namespace {

size_t countVeths(test::ScratchNetns& ns) {
    auto r = ns.exec({"ip", "-j", "link", "show", "type", "veth"});
    REQUIRE(r.exitCode == 0);
    return r.json().size();
}

} // namespace

TEST_CASE("veth pair across two namespaces carries ping", "[veth]") {
    test::ScratchNetns host, ctr;
    VethSpec spec;
    spec.containerName = "eth0";
    spec.containerNetns = &ctr.netns();
    spec.mtu = 1400;
    spec.containerMac = "02:42:0a:09:00:02";
    auto pair = createVeth(host.nl(), ctr.nl(), spec);
    REQUIRE(pair);
    CHECK(std::regex_match(pair->host.name, std::regex("veth[0-9a-f]{8}")));
    CHECK(pair->container.name == "eth0");
    CHECK(pair->container.mac == "02:42:0a:09:00:02");
    CHECK(pair->container.mtu == 1400);
    CHECK(pair->host.mtu == 1400);
    CHECK(pair->host.kind == "veth");
    CHECK(pair->host.linkNetnsId.has_value());
    CHECK(pair->container.peerIndex == pair->host.index);

    auto inCtr = ctr.exec({"ip", "-j", "link", "show", "dev", "eth0"});
    REQUIRE(inCtr.exitCode == 0);
    CHECK(inCtr.json().at(0).at("address") == "02:42:0a:09:00:02");
    CHECK(host.exec({"ip", "link", "show", "dev", "eth0"}).exitCode != 0);

    Address ha{pair->host.index, *IpPrefix::parse("10.9.0.1/24")};
    Address ca{pair->container.index, *IpPrefix::parse("10.9.0.2/24")};
    REQUIRE(addAddress(host.nl(), ha));
    REQUIRE(addAddress(ctr.nl(), ca));
    REQUIRE(setLinkUp(host.nl(), pair->host.index, true));
    REQUIRE(setLinkUp(ctr.nl(), pair->container.index, true));
    auto ping = ctr.exec({"ping", "-c", "1", "-W", "2", "10.9.0.1"});
    CHECK(ping.exitCode == 0);
    INFO(ping.out << ping.err);

    SECTION("container name clash is a conflict and leaves nothing behind") {
        size_t before = countVeths(host);
        auto again = createVeth(host.nl(), ctr.nl(), spec);
        REQUIRE_FALSE(again);
        CHECK(again.error().code == Code::Conflict);
        CHECK(again.error().errnum == EEXIST);
        CHECK_THAT(again.error().msg, Catch::Contains("eth0 already exists"));
        CHECK(countVeths(host) == before);
    }
    SECTION("a caller-given host name that exists is a conflict") {
        VethSpec named = spec;
        named.containerName = "eth1";
        named.hostName = pair->host.name;
        auto again = createVeth(host.nl(), ctr.nl(), named);
        REQUIRE_FALSE(again);
        CHECK(again.error().code == Code::Conflict);
        CHECK(again.error().errnum == EEXIST);
        CHECK(ctr.exec({"ip", "link", "show", "dev", "eth1"}).exitCode != 0);
    }
    SECTION("deleting the container end removes the host end") {
        auto del = deleteLink(ctr.nl(), "eth0");
        REQUIRE(del);
        CHECK(*del);
        CHECK(countVeths(host) == 0);
    }
}

TEST_CASE("veth spec validation happens before any change", "[veth]") {
    test::ScratchNetns ns;
    VethSpec spec;
    spec.containerName = "eth0";
    spec.containerMac = "not-a-mac";
    auto r = createVeth(ns.nl(), ns.nl(), spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Code::InvalidConfig);
    spec.containerMac.clear();
    spec.containerName = "has/slash";
    CHECK_FALSE(createVeth(ns.nl(), ns.nl(), spec));
    CHECK(countVeths(ns) == 0);
}
