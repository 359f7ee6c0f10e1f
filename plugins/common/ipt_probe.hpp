// A cheap existence test for iptables-nft chains: iptables-nft keeps the nat table as the nftables
// table `ip nat` / `ip6 nat`, chains under their iptables names.
#pragma once

#include <string>
#include <vector>

#include "libnet/ip.hpp"

namespace tether::nat::ipt {

/// One nfnetlink GETCHAIN per name in table `table` of `family` (ip / ip6), calling thread's
/// netns, nothing exec'ed. False when every answer is ENOENT (no table or no chain); true when
/// one exists or anything else goes wrong (the caller then looks with iptables-save).
bool nftChainsMayExist(net::Family family, const std::string& table,
                       const std::vector<std::string>& chains);

} // namespace tether::nat::ipt
