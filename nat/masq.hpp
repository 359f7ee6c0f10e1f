// Masquerade of container traffic leaving its own subnet (bridge/veth `ipMasq`, the masquerade
// plugin). Per container: one element in masq4/masq6 (its address) and one in nomasq4/nomasq6
// (address . own subnet, which is exempt), both owned by the attachment. Multicast is exempt.
// With backend "iptables" the same as iptables rules (nat/ipt_nat.hpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"

namespace tether::nat {

struct MasqSpec {
    std::string network;
    std::string containerId;
    std::string ifname;
    std::vector<net::IpPrefix> ips; ///< container addresses with their subnet prefix
    std::string backend;            ///< "" or "nftables" (default) | "iptables"
};

/// Adds the attachment's elements (one transaction), or its iptables rules (one iptables-restore
/// per family) with backend "iptables". Idempotent for the same owner. Code 7 for another
/// backend value.
Status setupMasq(const MasqSpec& spec);
/// Removes every element the attachment owns, and its iptables rules (from both backends: the
/// config may have changed since ADD; iptables is only exec'ed when one of its chains exists).
/// The addresses are not needed; when known (`ips`, from prevResult) the elements are found by
/// key instead of listing the sets (see nat::removeOwned). Missing is fine.
Status teardownMasq(const std::string& network, const std::string& containerId,
                    const std::string& ifname, const std::vector<net::IpPrefix>& ips = {});
/// CHECK: every address of `spec` has its masquerade element (or iptables rule, by backend),
/// owned by the attachment.
Status checkMasq(const MasqSpec& spec);
/// GC: removes the elements and iptables rules of `network` whose (containerID, ifname) is not in
/// `valid`.
Status gcMasq(const std::string& network,
              const std::vector<std::pair<std::string, std::string>>& valid);

} // namespace tether::nat
