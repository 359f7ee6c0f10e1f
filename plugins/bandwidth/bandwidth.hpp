// The bandwidth plugin (chained): token bucket shaping of the traffic into the container (TBF on
// the host veth) and out of it (host veth ingress redirected to an IFB device shaped by a TBF).
// See docs/plugins/bandwidth.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cni/skel.hpp"
#include "libnet/ip.hpp"

namespace tether::bandwidth {

/// Spec versions, as the reference: 0.3.0 and later (it needs the interfaces of prevResult).
inline constexpr std::string_view kVersions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

/// Rates in bits per second, bursts in bits; 0/0 = that direction is not shaped.
struct Limits {
    uint64_t ingressRate = 0, ingressBurst = 0; ///< into the container
    uint64_t egressRate = 0, egressBurst = 0;   ///< out of the container
    /// shapedSubnets (only traffic with these peers is shaped) or unshapedSubnets (traffic with
    /// these peers is not); empty = everything is shaped (a TBF instead of an HTB).
    std::vector<net::IpPrefix> subnets;
    bool subnetsShaped = false; ///< true: `subnets` are shapedSubnets
    [[nodiscard]] bool ingress() const { return ingressRate > 0; }
    [[nodiscard]] bool egress() const { return egressRate > 0; }
};

/// The top-level keys when any of them is present, else runtimeConfig.bandwidth (also spelled
/// "bandWidth", matched case-insensitively like Go). Errors: code 6 for a value that is not a
/// non-negative integer; code 7 for a rate without burst ("if rate is set, burst must also be
/// set") or the reverse, a burst of 4 GiB or more ("burst cannot be more than 4GB"), a rate below
/// 8 bits/s or a burst below 8 bits (zero bytes), both shapedSubnets and unshapedSubnets
/// non-empty, or an entry of them that is not a CIDR ("bad subnet ... provided").
Expected<Limits> parseConfig(const cni::CmdArgs& args);

/// The IFB device of an attachment: "bwp" + the first 12 hex digits of sha512(network +
/// containerID), the reference's name.
std::string ifbName(const std::string& network, const std::string& containerId);
/// The alias that marks an IFB as ours for GC: "tether-bandwidth:<network>:<containerID>".
std::string ownerAlias(const std::string& network, const std::string& containerId);

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
Status cmdDel(const cni::CmdArgs& args);
Status cmdCheck(const cni::CmdArgs& args);
/// Deletes this network's IFB devices whose container is not in cni.dev/valid-attachments.
Status cmdGc(const cni::CmdArgs& args);
cni::PluginFuncs pluginFuncs();

} // namespace tether::bandwidth
