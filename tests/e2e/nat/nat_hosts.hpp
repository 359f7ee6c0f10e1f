// The NAT tests' world, a netns fixture (nat_hosts.json): the calling thread is moved into its
// "host" for the object's lifetime, so plugins executed by the test, `nft`/`conntrack` probes and
// new scratch container namespaces all see "host" as the machine; "remote" is a peer on
// 192.0.2.0/24 with no route to container subnets.
#pragma once

#include "libnet/netns.hpp"
#include "netns-fixtures/scoped_fixture.hpp"

namespace tether::test {

inline constexpr const char* kHostAddr = "192.0.2.1";
inline constexpr const char* kRemoteAddr = "192.0.2.2";

class NatHosts : public fixture::ScopedFixture {
  public:
    /// Brings the topology up (Catch2 FAIL / exception on error) and enters "host".
    NatHosts();
    /// The remote peer's namespace.
    [[nodiscard]] const net::Netns& remote() const;
    /// The host's namespace (the one the calling thread is in).
    [[nodiscard]] const net::Netns& host() const;

  private:
    net::NetnsGuard inHost_;
};

} // namespace tether::test
