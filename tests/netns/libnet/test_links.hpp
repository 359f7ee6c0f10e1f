// Links for libnet tests that need "some interface": a veth pair with both ends up in one
// namespace (the kernel may lack the dummy driver), and a probe for bridge VLAN filtering.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "libnet/link.hpp"
#include "tests/support/scratch_netns.hpp"

namespace tether::test {

/// Creates veth `name` with peer `name`+"p", both up (so the link has carrier); returns
/// `name`'s ifindex.
inline int makeTestLink(ScratchNetns& ns, const std::string& name) {
    auto r = ns.exec({"ip", "link", "add", name, "up", "type", "veth", "peer", "name", name + "p"});
    REQUIRE(r.exitCode == 0);
    REQUIRE(ns.exec({"ip", "link", "set", name + "p", "up"}).exitCode == 0);
    auto link = net::getLink(ns.nl(), name);
    REQUIRE(link);
    return link->index;
}

/// Whether the running kernel supports bridge vlan_filtering (CONFIG_BRIDGE_VLAN_FILTERING).
inline bool kernelHasBridgeVlans() {
    ScratchNetns probe;
    return probe.exec({"ip", "link", "add", "p0", "type", "bridge", "vlan_filtering", "1"})
               .exitCode == 0;
}

} // namespace tether::test
