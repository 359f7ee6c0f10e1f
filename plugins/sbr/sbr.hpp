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

/// Requires prevResult with at least one IP (code 7). Addresses of CNI_IFNAME: prevResult IPs
/// whose `interface` names it, or that have no (valid) `interface`. `table`: optional integer,
/// the first address's table (default: the first id >= 100 that no rule or route uses); each
/// further address takes the next free id. CNI_IFNAME missing in the netns -> code 7. A failure
/// midway undoes this ADD's rules and routes. Returns prevResult unchanged.
Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);

/// Removes the rules whose source (/32, /128) is an address of CNI_IFNAME or one prevResult gave
/// it, and the routes via CNI_IFNAME in their tables (main/local/default excepted). Missing
/// netns or link: success. Kernel errors are collected; the first is returned.
Status cmdDel(const cni::CmdArgs& args);

/// Requires prevResult (code 7); every address of CNI_IFNAME in it must have a `from` rule
/// (code 999 naming the address).
Status cmdCheck(const cni::CmdArgs& args);

/// The handlers above, for pluginMain.
cni::PluginFuncs pluginFuncs();

} // namespace tether::sbr
