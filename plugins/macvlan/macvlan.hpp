// The macvlan plugin: the container gets a macvlan device on a host interface (its "master"),
// config-compatible with the reference macvlan. See docs/plugins/macvlan.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cni/skel.hpp"
#include "libnet/macvlan.hpp"

namespace tether::macvlan {

struct Config {
    std::string master; ///< empty = the interface of the default route (resolved at ADD)
    net::MacvlanMode mode = net::MacvlanMode::Bridge;
    std::string modeText; ///< as written ("" = bridge), for messages
    int64_t mtu = 0;      ///< 0 = the master's; checked against the master's MTU at ADD
    std::string mac;      ///< CNI_ARGS MAC=, then runtimeConfig.mac (last wins); empty = random
    bool linkInContainer = false;       ///< master is looked up inside the container netns
    std::optional<uint32_t> bcQueueLen; ///< "bcqueuelen"
};

/// Parses and validates without touching the kernel: wrong types code 6 naming the key; an
/// unknown `mode`, a negative `mtu`, an invalid MAC or master name code 7; bad CNI_ARGS code 4.
Expected<Config> parseConfig(const cni::CmdArgs& args);

/// ADD: macvlan born in the container netns as CNI_IFNAME, then IPAM (when `ipam` is set) with
/// addresses, routes and a gratuitous ARP per IPv4 address, else just up. Undone on failure.
Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
/// DEL: IPAM release (always), then the container interface; missing netns/link is success.
Status cmdDel(const cni::CmdArgs& args);
/// CHECK: IPAM CHECK, the container link exists, master exists, it is a macvlan of the configured
/// mode with the result's MAC, its addresses and routes are present.
Status cmdCheck(const cni::CmdArgs& args);

cni::PluginFuncs pluginFuncs();

} // namespace tether::macvlan
