// The NAT tests' world, a netns fixture (nat_hosts.json) that the NAT, iptables-backend and
// firewall suites share: the calling thread is moved into its "host" for the object's lifetime
// (test::HostWorld), so plugins executed by the test, `nft`/`conntrack` probes and new scratch
// container namespaces all see "host" as the machine; "remote" is a peer on 192.0.2.0/24 with
// no route to container subnets.
#pragma once

#include "tests/support/host_world.hpp"

namespace tether::test {

inline constexpr const char* kHostAddr = "192.0.2.1";
inline constexpr const char* kRemoteAddr = "192.0.2.2";

class NatHosts : public HostWorld {
  public:
    /// Brings the topology up (Catch2 FAIL on error) and enters "host".
    NatHosts() : HostWorld("tests/e2e/nat/nat_hosts.json") {}
};

} // namespace tether::test
