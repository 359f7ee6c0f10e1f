// Link attributes and devices beyond libnet/link.hpp that the tuning and bandwidth plugins need:
// the transmit queue length and all-multicast flag of a link, IFB devices tagged with an owner
// alias, and a dump of the links of one kind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "libnet/netlink.hpp"

namespace tether::net {

/// The attributes tuning saves and restores, as the kernel reports them.
struct LinkTuning {
    std::string mac; ///< lowercase "aa:bb:..", empty when the link has none
    uint32_t mtu = 0;
    uint32_t txQLen = 0;   ///< IFLA_TXQLEN
    bool promisc = false;  ///< IFF_PROMISC as set by the user (not the promiscuity count)
    bool allmulti = false; ///< IFF_ALLMULTI
};

/// The tuning attributes of link `index`. A missing link is code 100 errnum ENODEV.
Expected<LinkTuning> getLinkTuning(NetlinkSocket& sock, int index);
/// Turns IFF_ALLMULTI on or off.
Status setLinkAllmulti(NetlinkSocket& sock, int index, bool on);
/// Sets the transmit queue length (IFLA_TXQLEN).
Status setLinkTxQLen(NetlinkSocket& sock, int index, uint32_t qlen);

/// A link from a dump: its index, name and IFLA_IFALIAS.
struct LinkEntry {
    int index = 0;
    std::string name;
    std::string alias;
};
/// Every link of IFLA_INFO_KIND `kind` ("ifb", "veth", ...) in the socket's netns.
Expected<std::vector<LinkEntry>> listLinksOfKind(NetlinkSocket& sock, std::string_view kind);

/// What createIfb makes.
struct IfbSpec {
    std::string name;    ///< required, validated like any interface name (code 7)
    uint32_t mtu = 0;    ///< 0 = kernel default
    std::string alias;   ///< IFLA_IFALIAS, e.g. an owner tag; empty = none
    uint32_t txQLen = 0; ///< 0 = kernel default (32 for ifb)
    bool up = true;
};
/// Creates an IFB device (NLM_F_EXCL). An existing link of that name is code 102 errnum EEXIST.
/// If setting the alias or queue length fails the device is deleted again. Returns its ifindex.
Expected<int> createIfb(NetlinkSocket& sock, const IfbSpec& spec);

} // namespace tether::net
