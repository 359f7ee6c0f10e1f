// Linux bridges: idempotent creation/validation, bridge port options (hairpin, isolation,
// learning) and per-port VLAN membership (AF_BRIDGE IFLA_AF_SPEC / IFLA_BRIDGE_VLAN_INFO).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"

namespace tether::net {

struct BridgeSpec {
    std::string name;           ///< required
    uint32_t mtu = 0;           ///< 0 = kernel default; applied on creation only
    bool promisc = false;       ///< turn IFF_PROMISC on (never turned off on an existing one)
    bool vlanFiltering = false; ///< enable IFLA_BR_VLAN_FILTERING (also on an existing bridge)
    std::string mac;            ///< empty = kernel-chosen; applied on creation only
    bool up = true;             ///< bring the bridge up
};

/// Makes sure a bridge called spec.name exists with the requested settings and returns it.
/// Idempotent: an existing bridge is reused (promisc/vlanFiltering/up ensured). An existing link
/// of that name that is not a bridge -> code 7 "<name> exists and is not a bridge". A concurrent
/// creation (EEXIST) counts as success and the link is re-validated.
Expected<LinkInfo> ensureBridge(NetlinkSocket& sock, const BridgeSpec& spec);

/// Options of one bridge port (a link enslaved to a bridge). Unset fields are left unchanged.
struct BridgePortOptions {
    std::optional<bool> hairpin;  ///< IFLA_BRPORT_MODE (reflect frames back out the port)
    std::optional<bool> isolated; ///< IFLA_BRPORT_ISOLATED
    std::optional<bool> learning; ///< IFLA_BRPORT_LEARNING
};

/// Applies the port options in one request. The link must already be enslaved.
Status setBridgePort(NetlinkSocket& sock, int portIndex, const BridgePortOptions& opts);

/// One VLAN on a bridge port.
struct BridgeVlan {
    uint16_t vid = 0;      ///< 1..4094
    bool pvid = false;     ///< BRIDGE_VLAN_INFO_PVID: untagged ingress goes to this VLAN
    bool untagged = false; ///< BRIDGE_VLAN_INFO_UNTAGGED: egress leaves untagged
};

/// Adds `vlan` on a bridge port (`self` = false) or on the bridge device itself (`self` = true,
/// index = the bridge). Code 7 for a vid outside 1..4094. Re-adding updates flags.
Status addBridgeVlan(NetlinkSocket& sock, int index, const BridgeVlan& vlan, bool self = false);
/// Removes a VLAN from a port (or the bridge with `self`). A missing VLAN is not an error.
Status deleteBridgeVlan(NetlinkSocket& sock, int index, uint16_t vid, bool self = false);

} // namespace tether::net
