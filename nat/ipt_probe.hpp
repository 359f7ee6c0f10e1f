// A cheap existence test for iptables-nft chains: iptables-nft keeps the nat table as the nftables
// table `ip nat` / `ip6 nat`, chains under their iptables names.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "libnet/ip.hpp"

namespace tether::nat::ipt {

/// Of `families`, those whose nftables table `table` (ip / ip6) may hold one of `chains`: one
/// nfnetlink socket, one GETCHAIN per (family, chain) until one is found, calling thread's netns,
/// nothing exec'ed. A family is left out only when every answer is ENOENT (no table or no
/// chain); anything else going wrong keeps it (the caller then looks with iptables-save).
std::set<net::Family> nftFamiliesWithChains(const std::vector<net::Family>& families,
                                            const std::string& table,
                                            const std::vector<std::string>& chains);

} // namespace tether::nat::ipt
