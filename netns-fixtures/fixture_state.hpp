// Internal to netns-fixtures: what a Fixture holds while it lives, shared by fixture.cpp (API,
// teardown) and bringup.cpp (creation steps).
#pragma once

#include <map>
#include <string>

#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "netns-fixtures/fixture.hpp"
#include "netns-fixtures/registry.hpp"
#include "netns-fixtures/topology.hpp"

namespace tether::fixture {

struct Fixture::State {
    Topology topology;
    Record record;
    std::map<std::string, net::Netns, std::less<>> netns;           ///< node -> open namespace
    std::map<std::string, net::NetlinkSocket, std::less<>> sockets; ///< bring-up only
    bool sharedNetnsDir = false;
};

/// Creates everything in `state.record` / `state.topology`, adding handles to `state` as it
/// goes (the caller tears down on failure). The record must already be claimed.
Status bringUp(Fixture::State& state);

} // namespace tether::fixture
