// The firewall plugin: a chained plugin (after bridge/ptp) that lets forwarded traffic to and
// from the container's addresses through the host's firewall, and applies `ingressPolicy`
// (open, same-bridge, isolated). Backends: nftables (ours), iptables (the reference's chains),
// firewalld (D-Bus). See docs/plugins/firewall.md.
#pragma once

#include <optional>
#include <string>

#include "cni/skel.hpp"
#include "nat/firewall.hpp"

namespace tether::firewall {

enum class Backend { Auto, Nftables, Iptables, Firewalld };

struct Config {
    Backend backend = Backend::Auto;      ///< `backend`; absent: firewalld, nftables or iptables
    std::string adminChain = "CNI-ADMIN"; ///< `iptablesAdminChainName`
    std::string zone = "trusted";         ///< `firewalldZone`
    nat::fw::Policy policy = nat::fw::Policy::Open; ///< `ingressPolicy`
};

/// Parses the plugin keys. Code 6 for a non-string value, code 7 naming the key for a backend
/// other than nftables/iptables/firewalld, an admin chain name iptables would refuse (or one of
/// the built-in/our chains), a zone with whitespace or quotes, an unknown ingressPolicy.
Expected<Config> parseConfig(const cni::CmdArgs& args);

/// The attachment of prevResult: every address of `ips` and, for a policy other than open, the
/// bridge (interfaces[0].name; code 7 when prevResult has none).
Expected<nat::fw::Attachment> attachment(const cni::CmdArgs& args, const Config& c,
                                         const cni::Result& prev);

/// The backend to use for ADD/CHECK/STATUS: the configured one; Auto resolves to Firewalld when
/// org.fedoraproject.FirewallD1 has an owner on the system bus, else Nftables where nftables is
/// usable and Iptables where it is not (nat::resolveBackend: said once on stderr).
Backend resolve(Backend b);

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
Status cmdDel(const cni::CmdArgs& args);
Status cmdCheck(const cni::CmdArgs& args);
Status cmdGc(const cni::CmdArgs& args);
Status cmdStatus(const cni::CmdArgs& args);
cni::PluginFuncs pluginFuncs();

} // namespace tether::firewall
