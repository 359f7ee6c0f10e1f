// The static IPAM plugin's commands. It allocates nothing, so DEL only validates the config (as
// the reference does) and STATUS and GC have nothing to do and always succeed.
#pragma once

#include "base/error.hpp"
#include "cni/result.hpp"
#include "cni/skel.hpp"

namespace tether::staticipam {

/// The configured addresses (with their gateways), routes and DNS as an IPAM result (no
/// interfaces, no ips[].interface). Config errors as parseConfig (plugins/static/config.hpp).
Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);

/// Requires prevResult (code 7). Every configured address must be among prevResult's ips, with
/// the configured gateway when one is set; else code 999 naming the address and CNI_IFNAME.
Status cmdCheck(const cni::CmdArgs& args);

/// Validates the config like ADD (the reference fails DEL on a bad config too); nothing to free.
Status cmdDel(const cni::CmdArgs& args);

/// The handlers above, for pluginMain (STATUS/GC: none, i.e. success).
cni::PluginFuncs pluginFuncs();

} // namespace tether::staticipam
