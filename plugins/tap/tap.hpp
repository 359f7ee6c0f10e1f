// The tap plugin: the container gets a persistent tap device (for a VM or a userspace network
// stack to attach to), config-compatible with the reference tap. See docs/plugins/tap.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cni/skel.hpp"

namespace tether::tap {

struct Config {
    bool multiQueue = false;       ///< "multiQueue": IFF_MULTI_QUEUE
    int64_t mtu = 0;               ///< 0 = the kernel's default (1500)
    std::string mac;               ///< mac, then CNI_ARGS MAC=, then runtimeConfig.mac; "" = random
    std::optional<uint32_t> owner; ///< uid allowed to attach (TUNSETOWNER)
    std::optional<uint32_t> group; ///< gid allowed to attach (TUNSETGROUP)
    std::string bridge;            ///< a bridge in the container netns to enslave the tap to
    std::string selinuxContext;    ///< accepted, not applied (no SELinux on our hosts)
};

/// Parses and validates without touching the kernel: wrong types code 6 naming the key; an `mtu`
/// outside [0, 65535] (or below 68), an `owner`/`group` outside [0, 4294967294], an invalid MAC
/// or bridge name code 7 naming the key; bad CNI_ARGS code 4.
Expected<Config> parseConfig(const cni::CmdArgs& args);

/// ADD: the tap is created as CNI_IFNAME inside the container netns (IFF_TAP|IFF_NO_PI, and
/// IFF_VNET_HDR when both owner and group are given, as the reference), MTU and MAC applied,
/// enslaved to `bridge`, then IPAM (when `ipam` is set) with addresses and routes, else just up.
/// Missing bridge code 7; existing CNI_IFNAME code 102. Undone on failure.
Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
/// DEL: IPAM release (always, when `ipam` is set), then the tap; missing netns/link is success.
Status cmdDel(const cni::CmdArgs& args);
/// CHECK: IPAM CHECK, prevResult's interface in CNI_NETNS, the link is a tap with the configured
/// queue mode, owner, group, MTU, bridge and the result's MAC, its addresses and routes present.
Status cmdCheck(const cni::CmdArgs& args);

cni::PluginFuncs pluginFuncs();

} // namespace tether::tap
