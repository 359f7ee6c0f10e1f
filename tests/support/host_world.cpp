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

/// iptables-save output without its "# Generated/Completed ... on <time>" comment lines, so two
/// dumps of the same rules compare equal whatever second they were taken in.
std::string withoutSaveComments(const std::string& dump) {
    std::string out;
    std::size_t pos = 0;
    while (pos < dump.size()) {
        std::size_t end = dump.find('\n', pos);
        end = end == std::string::npos ? dump.size() : end + 1;
        if (dump[pos] != '#') out.append(dump, pos, end - pos);
        pos = end;
    }
    return out;
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
    return withoutSaveComments(execHere({"iptables-save", "-t", "nat"}).out);
}
std::string iptNat6() {
    return withoutSaveComments(execHere({"ip6tables-save", "-t", "nat"}).out);
}
std::string nftRuleset() {
    return execHere({"nft", "list", "ruleset"}).out;
}

} // namespace tether::test
