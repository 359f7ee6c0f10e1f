// The veth plugin: config (the reference ptp keys) and commands. See docs/plugins/veth.md.
#pragma once

#include "cni/skel.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::veth {

struct Config {
    plugin::NatSpec nat; ///< ipMasq, ipMasqBackend
    uint32_t mtu = 0;    ///< 0 = kernel default
};

/// Parses and validates: `ipam` is required (code 7), `mtu` 0 or 68..65535 (code 7), wrong types
/// code 6, ipMasqBackend other than "nftables"/"iptables" (code 7), ipMasq without NAT support
/// (code 2).
Expected<Config> parseConfig(const cni::CmdArgs& args);

/// ADD: IPAM, forwarding, veth, container addresses and point-to-point routes, host /32 (/128)
/// routes and the gateway address on the host end, NAT; undone entirely on failure.
Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
/// DEL: IPAM release (always), container interface, NAT. Missing pieces are fine.
Status cmdDel(const cni::CmdArgs& args);
/// CHECK: IPAM CHECK, the container veth, its addresses and routes against prevResult.
Status cmdCheck(const cni::CmdArgs& args);

cni::PluginFuncs pluginFuncs();

} // namespace tether::veth
