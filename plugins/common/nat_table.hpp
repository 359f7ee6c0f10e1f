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

namespace tether::nat {

inline constexpr const char* kTable = "inet tether";

/// The owner tag of an attachment. Names are validated by the skeleton; an ifname with
/// characters outside [A-Za-z0-9_.-] is hex-encoded so the tag is always safe to quote.
std::string ownerTag(const std::string& network, const std::string& containerId,
                     const std::string& ifname);
/// The "<network>/" prefix of every tag of a network (for GC).
std::string networkPrefix(const std::string& network);

/// Creates the table with every static set, map, chain and rule in one transaction, unless it
/// exists already (then nothing is touched). Safe under concurrent first use.
Status ensureTable(net::Nft& nft);

/// One element of one of our sets/maps, as found in the kernel.
struct Element {
    std::string set;   ///< set or map name
    std::string key;   ///< key in nft syntax ("10.77.0.2 . 10.77.0.0/16", "tcp . 8080")
    std::string value; ///< map data in nft syntax, empty for sets
    std::string owner; ///< the comment
};

/// Every element of `sets` with its owner (none when the table does not exist yet).
Expected<std::vector<Element>> listElements(net::Nft& nft, const std::vector<std::string>& sets);

/// Deletes the elements in one transaction (nothing to do for an empty list).
Status deleteElements(net::Nft& nft, const std::vector<Element>& elements, std::string_view what);

/// Every set and map that holds per-attachment elements.
const std::vector<std::string>& allSets();

} // namespace tether::nat
