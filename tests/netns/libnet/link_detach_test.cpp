// deleteLinkDetached against the real kernel: when it returns, the link and its veth peer are
// gone from both namespaces and the name can be used again at once; a missing link is `false`;
// a bad name is an error before anything is sent.
#include <catch2/catch.hpp>

#include "libnet/link.hpp"
#include "libnet/link_detach.hpp"
#include "libnet/veth.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::net;

namespace {

bool linkExists(test::ScratchNetns& ns, const std::string& name) {
    return ns.exec({"ip", "link", "show", "dev", name}).exitCode == 0;
}

VethPair makePair(test::ScratchNetns& host, test::ScratchNetns& ctr) {
    VethSpec spec;
    spec.containerName = "eth0";
    spec.containerNetns = &ctr.netns();
    auto pair = createVeth(host.nl(), ctr.nl(), spec);
    REQUIRE(pair);
    return *pair;
}

} // namespace

TEST_CASE("a detached delete returns with the veth pair already gone", "[libnet][link]") {
    test::ScratchNetns host, ctr;
    for (int round = 0; round < 3; ++round) { // the same names again each round
        VethPair pair = makePair(host, ctr);
        REQUIRE(linkExists(ctr, "eth0"));
        REQUIRE(linkExists(host, pair.host.name));

        auto gone = deleteLinkDetached(ctr.netns(), "eth0");
        REQUIRE(gone);
        CHECK(*gone);
        CHECK_FALSE(linkExists(ctr, "eth0"));
        CHECK_FALSE(linkExists(host, pair.host.name));
    }
}

TEST_CASE("a detached delete of a missing link is false, a bad name an error", "[libnet][link]") {
    test::ScratchNetns ns;
    auto missing = deleteLinkDetached(ns.netns(), "nosuch0");
    REQUIRE(missing);
    CHECK_FALSE(*missing);

    auto bad = deleteLinkDetached(ns.netns(), "name/with/slash");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().msg.find("name/with/slash") != std::string::npos);
}

TEST_CASE("a link the kernel refuses to delete reports the kernel's error", "[libnet][link]") {
    test::ScratchNetns ns;
    // Loopback cannot be deleted: the child's ack carries the error, there is no announcement.
    auto lo = deleteLinkDetached(ns.netns(), "lo");
    REQUIRE_FALSE(lo);
    CHECK(lo.error().msg.find("lo") != std::string::npos);
    CHECK(linkExists(ns, "lo"));
}
