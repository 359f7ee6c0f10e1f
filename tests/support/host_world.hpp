// A netns fixture topology with a node "host" that the calling thread enters for the object's
// lifetime, so that plugins executed by the test, `nft`/`iptables-save`/`conntrack` probes and
// new scratch container namespaces all see "host" as the machine. The NAT, portmap and firewall
// e2e suites each describe their world (hosts, links, addresses) in a JSON topology and build it
// through this class; the namespaces are pinned under a private /run (isolateRunDir).
#pragma once

#include <string>

#include "libnet/netns.hpp"
#include "netns-fixtures/scoped_fixture.hpp"

namespace tether::test {

class HostWorld : public fixture::ScopedFixture {
  public:
    /// Loads `topologyFile` (relative to the source tree), brings it up and enters its node
    /// "host". Catch2 FAIL when the file does not load, the topology cannot be brought up, or
    /// "host" cannot be entered (the fixture is torn down again).
    explicit HostWorld(const std::string& topologyFile);
    /// The namespace of node `name`; Catch2 FAIL for a node the topology does not have.
    [[nodiscard]] const net::Netns& node(const char* name) const;
    /// The namespace of node "remote" (each of these worlds has that peer).
    [[nodiscard]] const net::Netns& remote() const { return node("remote"); }
    /// The namespace of node "host" (the one the calling thread is in).
    [[nodiscard]] const net::Netns& host() const { return node("host"); }

  private:
    net::NetnsGuard inHost_;
};

/// `iptables-save -t nat` in the calling thread's namespace, its timestamped comment lines dropped.
std::string iptNat4();
/// `ip6tables-save -t nat` in the calling thread's namespace, its timestamped comment lines
/// dropped.
std::string iptNat6();
/// `nft list ruleset` in the calling thread's namespace.
std::string nftRuleset();

} // namespace tether::test
