// The bridge plugin's commands (see docs/plugins/bridge.md).
#pragma once

#include "cni/skel.hpp"

namespace tether::bridge {

/// ADD: bridge, veth pair, IPAM, addresses/routes, gateway, NAT; undone entirely on failure.
Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
/// DEL: container interface, then IPAM release (always), then NAT; never the bridge.
Status cmdDel(const cni::CmdArgs& args);
/// CHECK: live state against prevResult, and IPAM CHECK.
Status cmdCheck(const cni::CmdArgs& args);
/// STATUS forwards to IPAM; GC forwards to IPAM and removes NAT elements of orphans.
Status cmdStatus(const cni::CmdArgs& args);
Status cmdGc(const cni::CmdArgs& args);

cni::PluginFuncs pluginFuncs();

} // namespace tether::bridge
