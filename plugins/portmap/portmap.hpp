// The portmap plugin: config (reference keys + the portMappings capability) and commands.
// See docs/plugins/portmap.md and docs/nftables.md (both backends).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cni/skel.hpp"
#include "libnet/ip.hpp"
#include "nat/backend.hpp"

namespace tether::portmap {

struct Mapping {
    int hostPort = 0;
    int containerPort = 0;
    std::string protocol = "tcp";      ///< tcp, udp or sctp
    std::optional<net::IpAddress> hostIP;
    [[nodiscard]] std::string text() const; ///< "[hostIP:]hostPort/proto -> containerPort"
};

struct Config {
    std::vector<Mapping> mappings;
    bool snat = true;     ///< masquerade hairpin and localhost connections
    bool masqAll = false; ///< masquerade every mapped connection
    nat::Backend backend = nat::Backend::Nftables; ///< `backend`: "nftables" (default) | "iptables"
};

/// Parses runtimeConfig.portMappings and the plugin keys. Errors: code 6 for wrong types, code 7
/// naming the entry for a port outside 1..65535, an unknown protocol, a hostIP that is not an
/// address, two entries for the same [hostIP:]hostPort/protocol, a backend other than
/// "nftables"/"iptables".
Expected<Config> parseConfig(const cni::CmdArgs& args);

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
Status cmdDel(const cni::CmdArgs& args);
Status cmdCheck(const cni::CmdArgs& args);
Status cmdGc(const cni::CmdArgs& args);
cni::PluginFuncs pluginFuncs();

} // namespace tether::portmap
