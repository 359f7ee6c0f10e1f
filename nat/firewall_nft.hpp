// The firewall plugin's nftables state: two tables of ours, created once atomically, holding only
// sets whose elements are the attachments' addresses, each tagged with its owner
// ("<network>/<containerID>/<ifname>"):
//   inet tether_fw    forward hook: container-to-container isolation of routed traffic
//   bridge tether_fw  forward hook: isolation of traffic switched inside one bridge
// Accepting traffic another table drops is impossible in nftables (every base chain on a hook
// must accept); see firewall_ipt.hpp for the iptables FORWARD case and docs/plugins/firewall.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "nat/firewall.hpp"

namespace tether::nat::fw {

inline constexpr const char* kFwTable = "tether_fw"; ///< in family inet and bridge

/// Creates whichever of the two tables is missing (with every set, chain and rule, one
/// transaction); nothing is touched when both exist. Safe under concurrent first use.
Status ensureNftTables();

/// Which of the attachment's elements: all, or only the bridge table's (the iptables backend
/// keeps routed isolation in iptables; switched traffic still needs the bridge table).
enum class NftScope { All, BridgeOnly };

/// Adds the attachment's elements (re-ADD of the same owner is fine): its addresses; with a
/// policy, the protected addresses (same-bridge also address . bridge); isolated also in the
/// bridge table. Two transactions (one per table); the first is undone when the second fails.
Status nftAdd(const Attachment& a, NftScope scope = NftScope::All);

/// Deletes every element owned by `owner`. With `hint` (what ADD made, from prevResult) the
/// elements are looked up by key, a cost independent of the number of containers; when a key is
/// missing or owned by someone else, every set is listed instead. Missing tables are fine.
Status nftRemove(const std::string& owner, const std::optional<Attachment>& hint);

/// Fails (code 999, naming the address) unless every element ADD would make exists with `a`'s
/// owner tag.
Status nftCheck(const Attachment& a, NftScope scope = NftScope::All);

/// Deletes the elements of `network` whose owner is not in `keep`.
Status nftGc(const std::string& network, const std::vector<std::string>& keep);

} // namespace tether::nat::fw
