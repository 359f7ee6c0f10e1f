// What the firewall tests observe: whether a new TCP connection from one namespace reaches a
// listener in another, and what of ours is left in the host's nftables / iptables state.
#pragma once

#include <string>
#include <vector>

#include "libnet/netns.hpp"
#include "tests/support/host_world.hpp"

namespace tether::test {

/// Whether a TCP connection from `from` to ip:port is accepted by a listener in `to` (a short
/// timeout: a dropped SYN is the expected "no").
bool reaches(const net::Netns& from, const net::Netns& to, const std::string& ip, int port = 7000);

/// `iptables-save -t filter` (+ ip6tables) of the calling thread's netns (`nft list ruleset` is
/// nftRuleset() of tests/support/host_world.hpp).
std::string iptFilter();

/// Every line of nftRuleset() and iptFilter() containing one of `needles` (empty: nothing left).
std::string leftovers(const std::vector<std::string>& needles);

/// `iptables -P FORWARD DROP` (iptables-nft's `ip filter FORWARD`, as Docker leaves a host) in
/// the calling thread's netns.
void dropForward();

} // namespace tether::test
