#include <catch2/catch.hpp>

#include "libnet/link.hpp"
#include "libnet/veth.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::net;

namespace {

nlohmann::json ipLink(test::ScratchNetns& ns, const std::string& name) {
    auto r = ns.exec({"ip", "-j", "-d", "link", "show", "dev", name});
    REQUIRE(r.exitCode == 0);
    return r.json().at(0);
}

LinkInfo makeVeth(test::ScratchNetns& ns, const std::string& a, const std::string& b) {
    VethSpec spec;
    spec.hostName = a;
    spec.containerName = b;
    auto pair = createVeth(ns.nl(), ns.nl(), spec);
    REQUIRE(pair);
    return pair->host;
}

} // namespace

TEST_CASE("findLink by name and index, missing is nullopt", "[link]") {
    test::ScratchNetns ns;
    auto lo = findLink(ns.nl(), "lo");
    REQUIRE(lo);
    REQUIRE(lo->has_value());
    CHECK((*lo)->index == 1);
    CHECK((*lo)->up);
    CHECK((*lo)->mac == "00:00:00:00:00:00");
    CHECK((*lo)->kind.empty());
    auto byIndex = findLink(ns.nl(), 1);
    REQUIRE(byIndex);
    REQUIRE(byIndex->has_value());
    CHECK((*byIndex)->name == "lo");
    auto missing = findLink(ns.nl(), "nope0");
    REQUIRE(missing);
    CHECK_FALSE(missing->has_value());
    auto missingIdx = findLink(ns.nl(), 4242);
    REQUIRE(missingIdx);
    CHECK_FALSE(missingIdx->has_value());
    auto bad = findLink(ns.nl(), "this-name-is-too-long");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Code::InvalidConfig);
    auto must = getLink(ns.nl(), "nope0");
    REQUIRE_FALSE(must);
    CHECK(must.error().errnum == ENODEV);
}

TEST_CASE("link state changes are visible with ip", "[link]") {
    test::ScratchNetns ns;
    LinkInfo a = makeVeth(ns, "va0", "vb0");
    CHECK(a.kind == "veth");
    REQUIRE(setLinkMtu(ns.nl(), a.index, 1280));
    REQUIRE(setLinkMac(ns.nl(), a.index, "02:11:22:33:44:55"));
    REQUIRE(setLinkPromisc(ns.nl(), a.index, true));
    REQUIRE(setLinkUp(ns.nl(), a.index, true));
    auto j = ipLink(ns, "va0");
    CHECK(j.at("mtu") == 1280);
    CHECK(j.at("address") == "02:11:22:33:44:55");
    CHECK(j.at("promiscuity").get<int>() >= 1);
    auto flags = j.at("flags").dump();
    CHECK_THAT(flags, Catch::Contains("\"UP\""));
    auto info = findLink(ns.nl(), a.index);
    REQUIRE(info);
    CHECK((*info)->mtu == 1280);
    CHECK((*info)->mac == "02:11:22:33:44:55");
    CHECK((*info)->up);
    CHECK((*info)->promisc);
    auto peer = getLink(ns.nl(), "vb0");
    REQUIRE(peer);
    CHECK((*info)->peerIndex == peer->index);

    REQUIRE(setLinkUp(ns.nl(), a.index, false));
    CHECK_FALSE((*findLink(ns.nl(), a.index))->up);
    auto badMac = setLinkMac(ns.nl(), a.index, "zz:11:22:33:44:55");
    REQUIRE_FALSE(badMac);
    CHECK(badMac.error().code == Code::InvalidConfig);
}

TEST_CASE("rename and delete links", "[link]") {
    test::ScratchNetns ns;
    LinkInfo a = makeVeth(ns, "va1", "vb1");
    REQUIRE(renameLink(ns.nl(), a.index, "renamed1"));
    CHECK(ns.exec({"ip", "link", "show", "dev", "renamed1"}).exitCode == 0);
    auto clash = renameLink(ns.nl(), a.index, "vb1");
    REQUIRE_FALSE(clash);
    CHECK(clash.error().errnum == EEXIST);
    auto del = deleteLink(ns.nl(), "renamed1");
    REQUIRE(del);
    CHECK(*del);
    // Deleting one end removed the peer as well.
    CHECK(ns.exec({"ip", "link", "show", "dev", "vb1"}).exitCode != 0);
    auto again = deleteLink(ns.nl(), "renamed1");
    REQUIRE(again);
    CHECK_FALSE(*again);
    auto byIndex = deleteLink(ns.nl(), a.index);
    REQUIRE(byIndex);
    CHECK_FALSE(*byIndex);
}

TEST_CASE("move a link to another netns with a new name", "[link]") {
    test::ScratchNetns a, b;
    LinkInfo va = makeVeth(a, "mv0", "mv1");
    REQUIRE(moveLinkToNetns(a.nl(), va.index, b.netns(), "moved0"));
    CHECK_FALSE(*findLink(a.nl(), "mv0"));
    auto moved = findLink(b.nl(), "moved0");
    REQUIRE(moved);
    REQUIRE(moved->has_value());
    CHECK((*moved)->kind == "veth");
    CHECK((*moved)->linkNetnsId.has_value());
}

TEST_CASE("master enslave and release", "[link]") {
    test::ScratchNetns ns;
    REQUIRE(ns.exec({"ip", "link", "add", "brm", "type", "bridge"}).exitCode == 0);
    auto br = getLink(ns.nl(), "brm");
    REQUIRE(br);
    LinkInfo a = makeVeth(ns, "ma0", "mb0");
    REQUIRE(setLinkMaster(ns.nl(), a.index, br->index));
    CHECK((*findLink(ns.nl(), a.index))->masterIndex == br->index);
    CHECK(ipLink(ns, "ma0").at("master") == "brm");
    REQUIRE(setLinkMaster(ns.nl(), a.index, 0));
    CHECK((*findLink(ns.nl(), a.index))->masterIndex == 0);
}
