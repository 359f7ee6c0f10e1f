// The loopback plugin: sets lo up inside CNI_NETNS (CNI_IFNAME is ignored), reports lo's first
// IPv4 and IPv6 address like the reference plugin, passes a prevResult through unchanged, sets
// lo down on DEL (tolerating a missing netns) and fails CHECK when lo is down.
#pragma once

#include "cni/skel.hpp"

namespace tether::loopback {

/// ADD: lo up, result {interfaces:[{name:"lo",mac:"00:00:00:00:00:00",sandbox:<netns>}],
/// ips:[first IPv4 of lo, first IPv6 of lo] (interface 0)} or the prevResult when given.
/// Errors: lo missing (code 100 ENODEV); an address on lo that is not a loopback address
/// (code 100 "loopback interface found with non-loopback address \"x\"").
Expected<cni::Result> add(const cni::CmdArgs& args);
/// DEL: lo down. Empty CNI_NETNS or a netns path that no longer exists: success, nothing done.
Status del(const cni::CmdArgs& args);
/// CHECK: code 100 "loopback interface is down" when lo is not up.
Status check(const cni::CmdArgs& args);

/// The handlers above, for cni::pluginMain.
cni::PluginFuncs pluginFuncs();

} // namespace tether::loopback
