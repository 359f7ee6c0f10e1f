// Every link of a netns in one dump, with the attributes host-device needs to find a device
// again (name, MAC, alias), and the link alias (IFLA_IFALIAS) itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "libnet/netlink.hpp"

namespace tether::net {

/// One link of a dump.
struct LinkRecord {
    int index = 0;
    std::string name;
    std::string kind;  ///< IFLA_INFO_KIND, empty for physical devices and lo
    std::string mac;   ///< lowercase "aa:bb:..", empty when none
    std::string alias; ///< IFLA_IFALIAS, empty when none
    uint32_t mtu = 0;
    bool up = false;
};

/// Every link in the socket's netns, in ifindex order.
Expected<std::vector<LinkRecord>> listLinks(NetlinkSocket& sock);
/// The record of link `index`; a missing link is code 100 errnum ENODEV.
Expected<LinkRecord> getLinkRecord(NetlinkSocket& sock, int index);
/// Sets IFLA_IFALIAS (at most 255 bytes, else code 7); an empty alias removes it.
Status setLinkAlias(NetlinkSocket& sock, int index, std::string_view alias);

} // namespace tether::net
