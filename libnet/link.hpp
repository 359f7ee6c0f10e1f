// Links (network interfaces) over rtnetlink: look up one link by name or index (never a full
// dump), change its state, delete it. "Not found" is an outcome: findLink returns nullopt and
// deleteLink returns false.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"

namespace tether::net {

/// What the kernel reports about one link.
struct LinkInfo {
    int index = 0;
    std::string name;
    std::string kind; ///< IFLA_INFO_KIND: "veth", "bridge", ... ; empty for lo/physical
    std::string mac;  ///< "aa:bb:cc:dd:ee:ff" (lowercase, as Go prints it); empty if none
    uint32_t mtu = 0;
    bool up = false;      ///< administratively up (IFF_UP)
    bool running = false; ///< IFF_RUNNING (carrier)
    bool promisc = false; ///< IFF_PROMISC
    int masterIndex = 0;  ///< IFLA_MASTER, 0 when not enslaved
    int peerIndex = 0;    ///< IFLA_LINK: for veth the peer's ifindex (in linkNetnsId's netns)
    std::optional<int> linkNetnsId; ///< IFLA_LINK_NETNSID when the peer lives in another netns
};

/// Validates an interface name (1..15 bytes, no '/', ':', whitespace, not "." or "..").
/// Error code 7 naming `name`.
Status validateIfName(std::string_view name);

/// Parses "aa:bb:cc:dd:ee:ff" (also '-' separated, any case) into 6 bytes. nullopt if invalid.
std::optional<std::array<uint8_t, 6>> parseMac(std::string_view text);
/// Formats bytes as lowercase colon-separated hex ("00:00:00:00:00:00").
std::string formatMac(const uint8_t* bytes, size_t len);

/// The link called `name` in the socket's netns, or nullopt.
Expected<std::optional<LinkInfo>> findLink(NetlinkSocket& sock, std::string_view name);
/// The link with ifindex `index`, or nullopt.
Expected<std::optional<LinkInfo>> findLink(NetlinkSocket& sock, int index);
/// Like findLink but a missing link is an error (code 100, errnum ENODEV, "link <name> not found").
Expected<LinkInfo> getLink(NetlinkSocket& sock, std::string_view name);

/// Sets IFF_UP on or off.
Status setLinkUp(NetlinkSocket& sock, int index, bool up);
/// Sets the MTU.
Status setLinkMtu(NetlinkSocket& sock, int index, uint32_t mtu);
/// Sets the hardware address ("aa:bb:..."); code 7 if `mac` is not a valid 6-byte MAC.
Status setLinkMac(NetlinkSocket& sock, int index, std::string_view mac);
/// Enslaves the link to `masterIndex`; 0 releases it from its master.
Status setLinkMaster(NetlinkSocket& sock, int index, int masterIndex);
/// Turns IFF_PROMISC on or off.
Status setLinkPromisc(NetlinkSocket& sock, int index, bool on);
/// Enslaves the link to `masterIndex` and sets it up in one request.
Status setLinkMasterUp(NetlinkSocket& sock, int index, int masterIndex);

/// Per-interface protocol settings that would otherwise be /proc/sys writes, set over netlink
/// (IFLA_AF_SPEC): no procfs lookup, which slows down with thousands of interfaces.
struct LinkAfConf {
    std::optional<bool> arpNotify;       ///< net.ipv4.conf.<if>.arp_notify
    std::optional<bool> noIpv6LinkLocal; ///< net.ipv6.conf.<if>.addr_gen_mode = 1 (none) when true
};
/// Applies `conf`: one request per family, so a host without IPv6 still gets the IPv4 part
/// (then the IPv6 part fails with the kernel's error).
Status setLinkAfConf(NetlinkSocket& sock, int index, const LinkAfConf& conf);
/// Renames a link (the kernel requires it to be down). EEXIST if `newName` is taken.
Status renameLink(NetlinkSocket& sock, int index, std::string_view newName);
/// Moves a link into `target` (IFLA_NET_NS_FD), optionally renaming it in the same request.
/// Its ifindex may change in the target; look it up there by name.
Status moveLinkToNetns(NetlinkSocket& sock, int index, const Netns& target,
                       std::string_view newName = {});
/// Deletes the link (deleting one end of a veth deletes both). Returns false when no such link.
Expected<bool> deleteLink(NetlinkSocket& sock, int index);
/// Deletes the link called `name`. Returns false when no such link.
Expected<bool> deleteLink(NetlinkSocket& sock, std::string_view name);

} // namespace tether::net
