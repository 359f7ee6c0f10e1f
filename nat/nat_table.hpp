// Our nftables table `inet tether`: static chains and sets created once, atomically; per
// container only set/map elements, each carrying its owner ("<network>/<containerID>/<ifname>")
// as the element comment, so DEL and GC remove exactly what an attachment added. The ruleset does
// not grow with the number of containers except by one element per address or mapping. See
// docs/nftables.md.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "libnet/nft.hpp"
#include "libnet/nft_set.hpp"

namespace tether::nat {

inline constexpr const char* kTable = "inet tether"; ///< as nft names it
inline constexpr const char* kTableName = "tether";  ///< in family NFPROTO_INET

/// The owner tag of an attachment. Names are validated by the skeleton; an ifname with
/// characters outside [A-Za-z0-9_.-] is hex-encoded so the tag is always safe to quote.
std::string ownerTag(const std::string& network, const std::string& containerId,
                     const std::string& ifname);
/// The "<network>/" prefix of every tag of a network (for GC).
std::string networkPrefix(const std::string& network);

/// Creates the table with every static set, map, chain and rule in one transaction, unless it
/// exists already (then nothing is touched; libnftables is only loaded to create it). Safe under
/// concurrent first use.
Status ensureTable();

/// Brings a table made before port mapping conditions existed (no set pmc4) up to the current
/// layout: sets pmc4/pmc4ip/pmc6/pmc6ip, chain pmconds and the hostports rules that use them, in
/// one transaction. A table that has them already is left alone (EEXIST is success).
Status upgradeTable();

/// The set of the bits in use by markMasqBit: one element (type mark, 1<<bit) per bit, added by
/// ensureMarkObjects, so DEL and GC find every mark set without knowing the bit of the ADD.
inline constexpr const char* kMarkBits = "pmbits";
/// The set holding, for markMasqBit `bit`, the source range . container address of connections
/// that get the mark: "pmmk4-<bit>" (IPv4) or "pmmk6-<bit>".
std::string markSetName(int bit, net::Family family);
/// Creates for `bit`, in one transaction (libnftables): sets pmmk4-<bit>/pmmk6-<bit>; chains
/// markpre (filter, prerouting, priority dstnat+1) and markout (route, output, dstnat+1) when
/// missing; in each a rule per family `ct state new ct status dnat <saddr . daddr> @pmmk?-<bit>
/// meta mark set meta mark | <1<<bit>`; and the bit in kMarkBits. The sets exist already (a
/// concurrent first use won): nothing changed, success.
Status ensureMarkObjects(int bit);

/// One element of one of our sets/maps: raw key/data bytes and the owner tag as its comment.
using Element = net::SetElem;

/// Every element of `sets` (none when the table does not exist yet): one raw dump per set.
Expected<std::vector<Element>> listElements(const std::vector<std::string>& sets);

/// The elements of `sets` owned by `owner`.
Expected<std::vector<Element>> ownedElements(const std::vector<std::string>& sets,
                                             const std::string& owner);

/// One transaction on table inet tether (see net::commitSetElements).
Status commit(const net::SetChanges& changes, std::string_view what);

/// Deletes the elements of `sets` owned by `owner`, in one transaction. When the caller knows
/// what the attachment installed (`expected`: the elements ADD would make from prevResult and
/// the runtime config), they are looked up by key — one GETSETELEM each, a cost independent of
/// how many containers exist — and deleted if every one of them is there and owned by `owner`.
/// Otherwise (no hint, a key missing or owned by someone else, a failed delete: the hint does
/// not describe what is installed) every set is listed and the owner's elements deleted, so
/// nothing of the attachment is left either way. Missing table or elements are fine.
Status removeOwned(const std::vector<std::string>& sets, const std::string& owner,
                   const std::vector<Element>& expected, std::string_view what);

/// Every set and map that holds per-attachment elements.
const std::vector<std::string>& allSets();

} // namespace tether::nat
