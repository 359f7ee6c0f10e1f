// The sbr (source-based routing) plugin, chained after the plugin that created CNI_IFNAME. For
// each address of CNI_IFNAME in prevResult it picks a routing table, adds the rule
// `from <addr> lookup <table>`, a default route via the address's gateway, and copies the
// interface's main-table routes into it; then it removes the interface's routes from main, so
// traffic from that address (replies included) leaves by this interface. See docs/plugins/sbr.md.
#pragma once

#include "base/error.hpp"
#include "cni/result.hpp"
#include "cni/skel.hpp"

namespace tether::sbr {

/// Requires prevResult (code 7) and a netns holding CNI_IFNAME (code 8 / code 11). `table`:
/// optional integer, first table id (default: the first id >= 100 used by no rule or route);
/// each further address takes the next free id. Returns prevResult unchanged.
Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);

/// Removes the rules whose source is an address of CNI_IFNAME, and the routes of CNI_IFNAME in
/// their tables. Missing netns or link: success. Kernel errors are collected; the first is
/// returned.
Status cmdDel(const cni::CmdArgs& args);

/// Requires prevResult; every address of CNI_IFNAME in it must have a `from` rule (code 999).
Status cmdCheck(const cni::CmdArgs& args);

/// The handlers above, for pluginMain.
cni::PluginFuncs pluginFuncs();

} // namespace tether::sbr
