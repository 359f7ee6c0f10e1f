// The bridge's ipMasq step, over the shared masquerade module when this build has it.
#pragma once

#include "cni/skel.hpp"
#include "plugins/bridge/config.hpp"

namespace tether::bridge {

/// Masquerades traffic from the result's container IPs leaving their subnet.
Status setupNat(const cni::CmdArgs& args, const Config& c, const cni::Result& result);
/// Removes what setupNat added for (network, container ID, ifname); missing is fine.
Status teardownNat(const cni::CmdArgs& args, const Config& c);
/// CHECK: the attachment's masquerade entries exist.
Status checkNat(const cni::CmdArgs& args, const Config& c, const cni::Result& result);
/// GC: removes masquerade entries of attachments not in cni.dev/valid-attachments.
Status gcNat(const cni::CmdArgs& args);

} // namespace tether::bridge
