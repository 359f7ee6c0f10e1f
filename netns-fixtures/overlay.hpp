// Internal to netns-fixtures: flannel-style VXLAN overlays (Topology::overlays). Parsing runs at
// the end of Topology::parse (names, interfaces and addresses are known by then); bring-up runs
// after the hosts are configured and before containers are attached.
#pragma once

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "netns-fixtures/fixture_state.hpp"
#include "netns-fixtures/topology.hpp"

namespace tether::fixture {

/// Parses `doc["overlays"]` (absent = none) into `t.overlays`, validating every key before
/// anything is created. Errors are code 7 (6 for JSON types) naming the element, e.g.
/// `overlays[0].nodes[2].subnet: 10.245.3.0/24 is outside clusterCidr 10.244.0.0/16`.
Status parseOverlays(const nlohmann::json& doc, Topology& t);

/// Creates every overlay of `s.topology` in its nodes' namespaces: the VXLAN device (up), its
/// address, the neighbour/FDB entries and routes towards every other node, and the masquerade
/// rules. Errors name the overlay, node and step; undo is the fixture's teardown (the devices
/// and rules live in the nodes' namespaces and go with them).
Status createOverlays(Fixture::State& s);

} // namespace tether::fixture
