// The firewall plugin's host state (plugins/firewall): what one attachment asks for, and the
// three places it can live — our nftables tables (firewall_nft), the iptables filter table in
// the reference's chains (firewall_ipt), firewalld over D-Bus (firewall_dbus). See
// docs/plugins/firewall.md.
#pragma once

#include <string>
#include <vector>

#include "libnet/ip.hpp"

namespace tether::nat::fw {

/// `ingressPolicy`: who may open connections to the container.
enum class Policy {
    Open,       ///< anyone (nothing is added for it beyond the accept rules)
    SameBridge, ///< the host and containers on the container's bridge only
    Isolated,   ///< the host only; no other container, not even on the same bridge
};

/// One attachment (network/container/ifname) as ADD saw it in prevResult.
struct Attachment {
    std::string owner;               ///< nat::ownerTag(network, containerID, ifname)
    std::vector<net::IpAddress> ips; ///< every address of prevResult.ips, as the reference
    std::string bridge;              ///< prevResult.interfaces[0].name (policy != Open)
    Policy policy = Policy::Open;
};

} // namespace tether::nat::fw
