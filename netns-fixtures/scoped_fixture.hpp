// A fixture for test frameworks: brings the topology up in the constructor and throws
// std::runtime_error (with the full error text) when it cannot, so Catch2's TEST_CASE_METHOD /
// a plain local object reports the failure; tears down in the destructor.
//
//   struct TwoHosts : tether::fixture::ScopedFixture {
//       TwoHosts() : ScopedFixture("netns-fixtures/examples/two-hosts.json") {}
//   };
//   TEST_CASE_METHOD(TwoHosts, "h1 reaches h2") {
//       CHECK(run("h1", {"ping", "-c1", address("h2", "eth0").str()}).exitCode == 0);
//   }
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "netns-fixtures/fixture.hpp"

namespace tether::fixture {

class ScopedFixture {
  public:
    /// Loads the topology file and brings it up; throws std::runtime_error on any error.
    explicit ScopedFixture(const std::string& topologyFile, const Options& options = {});
    /// Brings `topology` up; throws std::runtime_error on any error.
    explicit ScopedFixture(const Topology& topology, const Options& options = {});

    /// The live fixture (for runIn, netnsPath, ...).
    [[nodiscard]] Fixture& fixture() { return fx_; }
    [[nodiscard]] const Fixture& fixture() const { return fx_; }
    /// Runs a command in `node`; throws only when it cannot be started.
    ExecResult run(std::string_view node, const std::vector<std::string>& argv,
                   int timeoutSec = 30) const;
    /// The first address of `family` on node/ifname; throws when there is none.
    [[nodiscard]] net::IpAddress address(std::string_view node, std::string_view ifname,
                                         net::Family family = net::Family::V4) const;
    /// The pinned netns path of `node`; throws for an unknown node.
    [[nodiscard]] std::string netnsPath(std::string_view node) const;

  private:
    Fixture fx_;
};

} // namespace tether::fixture
