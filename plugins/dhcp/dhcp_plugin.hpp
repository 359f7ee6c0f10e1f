// The dhcp IPAM plugin's commands: each one is a request to the `dhcp daemon` over its unix
// socket (rpc.hpp); the daemon holds the leases.
#pragma once

#include "base/error.hpp"
#include "cni/result.hpp"
#include "cni/skel.hpp"

namespace tether::dhcp {

/// Asks the daemon for a lease on CNI_IFNAME in CNI_NETNS and returns it as an IPAM result.
/// Config errors (code 6/7) before the daemon is contacted; daemon not running -> code 11
/// naming the socket path; no lease in time -> the daemon's code 11.
Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);

/// Releases the attachment's lease (RELEASE sent by the daemon). No lease, or no daemon (so no
/// lease can exist), is success. A config that does not parse fails as in ADD.
Status cmdDel(const cni::CmdArgs& args);

/// The daemon must hold a live lease for the attachment (code 999 otherwise) and, when a
/// prevResult is given, its address must be among prevResult.ips (code 999 naming both).
Status cmdCheck(const cni::CmdArgs& args);

/// The daemon answers on its socket; otherwise code 50 naming the socket path.
Status cmdStatus(const cni::CmdArgs& args);

/// The handlers above, for pluginMain.
cni::PluginFuncs pluginFuncs();

} // namespace tether::dhcp
