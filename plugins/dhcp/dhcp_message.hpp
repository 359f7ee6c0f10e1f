// DHCPv4 messages (RFC 2131/2132): building the client's DISCOVER/REQUEST/RELEASE and reading
// the server's OFFER/ACK/NAK, plus the option values the plugin turns into a CNI result.
// Pure byte handling, no sockets.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace tether::dhcp {

/// DHCP message types (option 53).
enum class MsgType : uint8_t {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
};

/// Option codes the client reads or writes itself.
namespace opt {
inline constexpr uint8_t SubnetMask = 1, Router = 3, DnsServers = 6, HostName = 12, DomainName = 15,
                         StaticRoutes = 33, RequestedIp = 50, LeaseTime = 51, MessageType = 53,
                         ServerId = 54, ParamRequest = 55, RenewalTime = 58, RebindingTime = 59,
                         ClientId = 61, ClasslessRoutes = 121, End = 255, Pad = 0;
}

/// An IPv4 address in host byte order.
using Ip4 = uint32_t;

/// "a.b.c.d" of a host-order address.
std::string ip4String(Ip4 ip);

/// What the client puts in one message.
struct ClientMessage {
    MsgType type = MsgType::Discover;
    uint32_t xid = 0;
    std::array<uint8_t, 6> mac{};
    bool broadcast = false;            ///< sets the BOOTP broadcast flag
    Ip4 ciaddr = 0;                    ///< our address (RENEW/REBIND/RELEASE)
    std::optional<Ip4> requestedIp;    ///< option 50 (REQUEST while selecting)
    std::optional<Ip4> serverId;       ///< option 54 (REQUEST while selecting, RELEASE)
    std::vector<uint8_t> paramRequest; ///< option 55; empty = omitted
    /// Further options by code (client ID, host name, ...). Values over 255 bytes are cut.
    std::map<uint8_t, std::vector<uint8_t>> options;
};

/// The BOOTP/DHCP payload (no UDP/IP header) of `m`, at least 300 bytes.
std::vector<uint8_t> encode(const ClientMessage& m);

/// A server reply as parsed.
struct ServerMessage {
    MsgType type = MsgType::Offer;
    uint32_t xid = 0;
    std::array<uint8_t, 6> chaddr{};
    Ip4 yiaddr = 0;
    Ip4 siaddr = 0;
    std::map<uint8_t, std::vector<uint8_t>> options; ///< concatenated when repeated (RFC 3396)

    /// An option holding one address (router: the first of the list); nullopt when absent/short.
    [[nodiscard]] std::optional<Ip4> address(uint8_t code) const;
    /// A 32-bit big-endian value (lease times); nullopt when absent or not 4 bytes.
    [[nodiscard]] std::optional<uint32_t> u32(uint8_t code) const;
};

/// Parses a BOOTREPLY with the DHCP magic cookie and a message type. nullopt for anything else
/// (a request, a BOOTP-only reply, garbage): the caller just ignores such packets.
std::optional<ServerMessage> decode(const uint8_t* data, size_t len);

/// One route from options 121/33/3.
struct Route4 {
    Ip4 dst = 0;
    int prefix = 0;
    Ip4 gw = 0;
};

/// The routes a lease gives, as the reference computes them: the classless static routes
/// (option 121) when present, else the static routes (option 33, classful destinations) plus a
/// default route via the first router (option 3).
std::vector<Route4> leaseRoutes(const ServerMessage& ack);

/// Prefix length of a contiguous netmask; nullopt when the mask has holes.
std::optional<int> maskPrefix(Ip4 mask);

} // namespace tether::dhcp
