// The ipMasq step of the interface plugins (bridge, veth), over the shared masquerade module
// (nat/) when this build has it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cni/skel.hpp"

namespace tether::plugin {

struct NatSpec {
    bool ipMasq = false;
    std::string backend; ///< "", "nftables" or "iptables"
};

/// True when this build can masquerade (nat/ is present).
bool natAvailable();
/// Masquerades traffic from the result's container IPs that leaves their subnet.
Status setupNat(const cni::CmdArgs& args, const NatSpec& spec, const cni::Result& result);
/// Removes what setupNat added for (network, container ID, ifname); missing is fine.
Status teardownNat(const cni::CmdArgs& args, const NatSpec& spec);
/// CHECK: the attachment's masquerade entries exist.
Status checkNat(const cni::CmdArgs& args, const NatSpec& spec, const cni::Result& result);
/// The (containerID, ifname) pairs of cni.dev/valid-attachments (or the older
/// cni.dev/attachments) in a GC config.
std::vector<std::pair<std::string, std::string>> validAttachments(const nlohmann::json& raw);
/// GC: removes masquerade entries of attachments not in cni.dev/valid-attachments.
Status gcNat(const cni::CmdArgs& args);

} // namespace tether::plugin
