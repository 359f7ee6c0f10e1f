// The host-local IPAM plugin's commands over the disk store (reference-compatible files).
#pragma once

#include "base/error.hpp"
#include "cni/result.hpp"
#include "cni/skel.hpp"

namespace tether::hostlocal {

/// Reserves one address per range set for (CNI_CONTAINERID, CNI_IFNAME) and returns them with
/// the configured routes and the resolvConf DNS. Nothing stays reserved when it fails.
Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);

/// Releases every address of (CNI_CONTAINERID, CNI_IFNAME) in every range set. Succeeds when
/// there is none or the store does not exist (nothing is created). Reads only the network name
/// and ipam.dataDir from the config, so ranges changed since ADD do not block the release.
Status cmdDel(const cni::CmdArgs& args);

/// Fails unless (CNI_CONTAINERID, CNI_IFNAME) holds a reservation.
Status cmdCheck(const cni::CmdArgs& args);

/// Code 50 naming the reason unless the store is writable and every range set has a free
/// address.
Status cmdStatus(const cni::CmdArgs& args);

/// Releases reservations whose attachment is not in cni.dev/valid-attachments (or the older
/// cni.dev/attachments), including unreadable/empty lease files; continues on errors.
Status cmdGc(const cni::CmdArgs& args);

/// The handlers above, for pluginMain.
cni::PluginFuncs pluginFuncs();

} // namespace tether::hostlocal
