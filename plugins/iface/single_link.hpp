// The steps that the plugins giving the container one link of their own (macvlan, tap,
// host-device) share: the config keys they read alike, the checks ADD makes before anything is
// created, the IPAM lease and the result of ADD, DEL, CHECK, and STATUS/GC delegated to `ipam`.
// Each plugin keeps what makes its link: see docs/plugins/<name>.md.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/undo_stack.hpp"
#include "cni/result.hpp"
#include "cni/skel.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "plugins/iface/pending_ipam.hpp"

namespace tether::plugin {

/// The container MAC a config asks for: the key `mac`, then CNI_ARGS MAC=, then
/// runtimeConfig.mac (the last non-empty one wins); "" = none. Wrong JSON types code 6 naming the
/// key, bad CNI_ARGS (keys other than MAC) code 4, an unparsable MAC code 7
/// "invalid <label> \"<mac>\"".
Expected<std::string> readContainerMac(const cni::CmdArgs& args, std::string_view label);

/// An interface name given in the config key `key` (master, bridge, device): "" is fine (absent),
/// an invalid name is code 7 "invalid <key> \"<name>\"" with the reason as details.
Status checkIfNameKey(std::string_view key, const std::string& name);

/// ADD's checks before anything is created, for a plugin whose `ipam` is optional: with `ipam`,
/// the in-process IPAM config is validated (PendingIpamAdd::validate); without it a cniVersion
/// below 0.3.0 is code 1 (such a result must carry an address; the reference makes the interface,
/// then fails to print the result and leaves it behind).
Status validateAddressing(const cni::CmdArgs& args);

/// Code 102 Conflict when CNI_IFNAME already exists in the container netns (`csock`).
Status refuseExistingIfname(net::NetlinkSocket& csock, const cni::CmdArgs& args);

/// Waits for the IPAM lease of `ipam`, pushes its release (IPAM DEL) onto `undo`, refuses an
/// empty result (code 999 "IPAM plugin returned missing IP config") and points every IP at
/// result.interfaces[resultIndex]. `args` must outlive `undo`.
Expected<cni::Result> takeIpamLease(PendingIpamAdd& ipam, UndoStack& undo, const cni::CmdArgs& args,
                                    int resultIndex);

/// How a plugin puts the lease on its link (addresses, routes, announcements), given the result.
using LeaseConfigure = std::function<Status(const cni::Result& result)>;

/// ADD's addressing step for the container link `link` (result.interfaces[resultIndex]): with
/// `ipam` (started by the caller) the lease is taken as takeIpamLease does and `configure` puts
/// it on the link; without it the link is only set up. Then the result is completed
/// (finishResult with the link's MAC). The release of the lease is pushed onto `undo`.
Expected<cni::Result> addressLink(std::optional<PendingIpamAdd>& ipam, UndoStack& undo,
                                  const cni::CmdArgs& args, net::NetlinkSocket& csock,
                                  const net::LinkInfo& link, int resultIndex,
                                  const LeaseConfigure& configure);

/// Completes an ADD result: the one container interface (CNI_IFNAME, `mac`, CNI_NETNS), the
/// config's `dns` when it is not empty, the request's cniVersion.
void finishResult(cni::Result& result, const cni::CmdArgs& args, const std::string& mac);

/// DEL of a plugin whose link dies with its deletion: IPAM release (when `ipam` is set, whatever
/// the rest of the config says), then CNI_IFNAME in CNI_NETNS; a missing netns or link is
/// success. Both steps run; the first error's code is reported.
Status delIpamThenLink(const cni::CmdArgs& args);

/// What CHECK compares for the plugin's own kind of link, given the container netns socket and
/// the live link; an error names the mismatch.
using LinkKindCheck = std::function<Status(net::NetlinkSocket& csock, const net::LinkInfo& link)>;

/// CHECK: IPAM CHECK (when `ipam` is set); prevResult is required and names CNI_IFNAME in
/// CNI_NETNS (else code 7); the link exists (else code 999); `kindCheck` passes; the link has
/// prevResult's MAC (when it names one), its addresses and routes (plugin::checkIface).
Status checkSingleLink(const cni::CmdArgs& args, const LinkKindCheck& kindCheck);

/// The functions of a one-link plugin: its own ADD, DEL and CHECK; STATUS and GC delegated to
/// `ipam` (ipamStatus, ipamGc).
cni::PluginFuncs singleLinkFuncs(std::function<Expected<cni::Result>(const cni::CmdArgs&)> add,
                                 std::function<Status(const cni::CmdArgs&)> del,
                                 std::function<Status(const cni::CmdArgs&)> check);

/// STATUS: delegated to the `ipam` plugin when one is set, else success.
Status ipamStatus(const cni::CmdArgs& args);
/// GC: delegated to the `ipam` plugin when one is set, else success.
Status ipamGc(const cni::CmdArgs& args);

} // namespace tether::plugin
