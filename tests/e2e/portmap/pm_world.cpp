#include "tests/e2e/portmap/pm_world.hpp"

#include <catch2/catch.hpp>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/run_dir.hpp"
#include "tests/support/scratch_netns.hpp"

namespace tether::test {

namespace {

fixture::Topology load() {
    isolateRunDir(); // the fixture pins its namespaces under /run/netns
    auto t = fixture::Topology::load(sourceDir() + "/tests/e2e/portmap/pm_hosts.json");
    if (!t) FAIL(t.error().text());
    return *t;
}

const net::Netns& nodeNetns(const fixture::Fixture& fx, const char* node) {
    auto ns = fx.netns(node);
    if (!ns) FAIL(ns.error().text());
    return **ns;
}

} // namespace

PmHosts::PmHosts() : ScopedFixture(load()), inHost_(nodeNetns(fixture(), "host")) {
    if (!inHost_.ok()) FAIL("enter fixture host: " << inHost_.error().text());
}

const net::Netns& PmHosts::remote() const {
    return nodeNetns(fixture(), "remote");
}
const net::Netns& PmHosts::host() const {
    return nodeNetns(fixture(), "host");
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
