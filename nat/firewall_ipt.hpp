// The firewall plugin's iptables state, in the reference plugin's layout of the `filter` table so
// that admins' rules keep working (one `iptables-restore --noflush` per family per change, under
// the iptables lock of nat/ipt.hpp):
//   FORWARD      1: -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
//   CNI-FORWARD  1: -m comment --comment "CNI firewall plugin admin overrides" -j <admin chain>
//                   -d <ip>/32 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment
//                   <owner> -j ACCEPT -s <ip>/32 -m comment --comment <owner> -j ACCEPT
// and, with isolation (the iptables backend), before it in FORWARD the reference's
// CNI-ISOLATION-STAGE-1/2 chains holding per-address rules (see docs/plugins/firewall.md).
// Every per-attachment rule carries its owner tag as comment; DEL/GC delete by tag, and the
// chains (with their jumps) go when no rule but our fixed ones is left in them.
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "nat/firewall.hpp"

namespace tether::nat::fw {

inline constexpr const char* kForwardChain = "CNI-FORWARD";
inline constexpr const char* kStage1 = "CNI-ISOLATION-STAGE-1";
inline constexpr const char* kStage2 = "CNI-ISOLATION-STAGE-2";

struct IptOptions {
    std::string adminChain = "CNI-ADMIN"; ///< `iptablesAdminChainName`
    bool isolation = false;               ///< also the CNI-ISOLATION-STAGE rules for routed traffic
};

/// The families (V4, V6) whose iptables filter table has a FORWARD chain a packet must pass —
/// iptables-nft's `ip filter FORWARD` / `ip6 filter FORWARD` (nfnetlink GETCHAIN, nothing
/// exec'ed) or an instantiated legacy x_tables filter table. Docker and firewalld-less hosts
/// with `iptables -P FORWARD DROP` are this case.
std::vector<net::Family> foreignForwardFamilies();

/// Adds the attachment's rules for the families of `a.ips` in `families` (both when empty):
/// creates the chains and jumps that are missing, replaces the owner's rules. Atomic per family;
/// when a later family fails, the earlier ones are rolled back. Code 50 without iptables.
Status iptAdd(const Attachment& a, const IptOptions& o, std::vector<net::Family> families = {});

/// Deletes the owner's rules from every family where our chains may exist (a cheap probe first:
/// nothing is exec'ed when none can), then the chains and jumps left without other rules. An
/// admin chain is only deleted when empty.
Status iptRemove(const std::string& owner);

/// Fails (code 999 naming the rule) unless the jumps and the owner's rules for every address
/// exist (and, with isolation, its isolation rules).
Status iptCheck(const Attachment& a, const IptOptions& o);

/// Deletes the rules of `network`'s owners not in `keep`, like iptRemove for each.
Status iptGc(const std::string& network, const std::vector<std::string>& keep);

} // namespace tether::nat::fw
