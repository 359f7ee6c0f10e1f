#include "tests/support/host_world.hpp"

#include <catch2/catch.hpp>

#include "tests/support/run_dir.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test {

namespace {

fixture::Topology load(const std::string& topologyFile) {
    isolateRunDir(); // the fixture pins its namespaces under /run/netns
    auto t = fixture::Topology::load(sourceDir() + "/" + topologyFile);
    if (!t) FAIL(t.error().text());
    return *t;
}

const net::Netns& nodeNetns(const fixture::Fixture& fx, const char* node) {
    auto ns = fx.netns(node);
    if (!ns) FAIL(ns.error().text());
    return **ns;
}

} // namespace

HostWorld::HostWorld(const std::string& topologyFile)
    : ScopedFixture(load(topologyFile)), inHost_(nodeNetns(fixture(), "host")) {
    if (!inHost_.ok()) FAIL("enter fixture host: " << inHost_.error().text());
}

const net::Netns& HostWorld::node(const char* name) const {
    return nodeNetns(fixture(), name);
}

std::string iptNat4() {
    return execHere({"iptables-save", "-t", "nat"}).out;
}
std::string iptNat6() {
    return execHere({"ip6tables-save", "-t", "nat"}).out;
}
std::string nftRuleset() {
    return execHere({"nft", "list", "ruleset"}).out;
}

} // namespace tether::test
