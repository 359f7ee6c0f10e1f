// The sockets one DHCP client uses inside the container's netns: a packet socket bound to the
// interface (sends broadcasts from 0.0.0.0 and sees replies addressed to an address the
// interface does not hold yet; unicast RENEW/RELEASE go out on it too, framed to the server's
// MAC) and a UDP socket bound to port 68 on the interface, only so that replies to the leased
// address find a socket (no ICMP port unreachable) once it is configured. Both are created inside
// the netns and stay there; they can then be used from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "libnet/netns.hpp"
#include "plugins/dhcp/dhcp_message.hpp"

namespace tether::dhcp {

/// Milliseconds on CLOCK_MONOTONIC.
int64_t monotonicMs();

class DhcpSocket {
  public:
    /// Waits up to `waitMs` for `ifname` to appear in `ns` (the runtime may still be creating
    /// it), sets it up when it is down, and opens both sockets. Errors: the interface never
    /// appeared -> code 11 "interface <ifname> not found in <netns> after <n> ms"; socket
    /// failures carry their errno (code 100).
    static Expected<DhcpSocket> open(const net::Netns& ns, const std::string& ifname, int waitMs);

    /// The interface's hardware address (chaddr).
    [[nodiscard]] const std::array<uint8_t, 6>& mac() const { return mac_; }
    [[nodiscard]] const std::string& ifname() const { return ifname_; }

    /// Sends `payload` in a UDP datagram 68 -> 67 from `src` to 255.255.255.255, Ethernet
    /// broadcast, through the packet socket.
    Status sendBroadcast(const std::vector<uint8_t>& payload, Ip4 src = 0);
    /// Sends `payload` in a UDP datagram 68 -> 67 from `src` to `dst`, in an Ethernet frame to
    /// `mac` (the server's, or its relay's, as seen on its last reply): no route, ARP or
    /// configured address needed, so it works before the runtime configures the address and
    /// while the interface is being torn down.
    Status sendUnicast(const std::vector<uint8_t>& payload, Ip4 src, Ip4 dst,
                       const std::array<uint8_t, 6>& mac);

    /// The next server reply for transaction `xid` sent to our hardware address, or nullopt
    /// when none arrives before `deadlineMs` (monotonicMs()). Other packets are skipped.
    std::optional<ServerMessage> receive(uint32_t xid, int64_t deadlineMs);
    /// Link-layer source of the last message receive() returned.
    [[nodiscard]] const std::array<uint8_t, 6>& lastPeerMac() const { return peerMac_; }

  private:
    DhcpSocket() = default;
    UniqueFd packet_;
    UniqueFd udp_;
    int ifindex_ = 0;
    std::string ifname_;
    std::array<uint8_t, 6> mac_{};
    std::array<uint8_t, 6> peerMac_{};
};

} // namespace tether::dhcp
