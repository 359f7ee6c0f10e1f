// Masquerade of container traffic leaving its own subnet (bridge/veth `ipMasq`, the masquerade
// plugin). Per container: one element in masq4/masq6 (its address) and one in nomasq4/nomasq6
// (address . own subnet, which is exempt), both owned by the attachment. Multicast is exempt.
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

/// Adds the attachment's elements (one transaction). Idempotent for the same owner.
Status setupMasq(const MasqSpec& spec);
/// Removes every element the attachment owns (the addresses are not needed). Missing is fine.
Status teardownMasq(const std::string& network, const std::string& containerId,
                    const std::string& ifname);
/// CHECK: every address of `spec` has its masquerade element, owned by the attachment.
Status checkMasq(const MasqSpec& spec);
/// GC: removes the elements of `network` whose (containerID, ifname) is not in `valid`.
Status gcMasq(const std::string& network,
              const std::vector<std::pair<std::string, std::string>>& valid);

} // namespace tether::nat
