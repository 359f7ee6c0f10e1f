#include "tests/e2e/nat/nat_hosts.hpp"

#include <catch2/catch.hpp>

#include "tests/support/run_dir.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test {

namespace {

fixture::Topology load() {
    isolateRunDir(); // the fixture pins its namespaces under /run/netns
    auto t = fixture::Topology::load(sourceDir() + "/tests/e2e/nat/nat_hosts.json");
    if (!t) FAIL(t.error().text());
    return *t;
}

const net::Netns& nodeNetns(const fixture::Fixture& fx, const char* node) {
    auto ns = fx.netns(node);
    if (!ns) FAIL(ns.error().text());
    return **ns;
}

} // namespace

NatHosts::NatHosts() : ScopedFixture(load()), inHost_(nodeNetns(fixture(), "host")) {
    if (!inHost_.ok()) FAIL("enter fixture host: " << inHost_.error().text());
}

const net::Netns& NatHosts::remote() const {
    return nodeNetns(fixture(), "remote");
}
const net::Netns& NatHosts::host() const {
    return nodeNetns(fixture(), "host");
}

} // namespace tether::test
