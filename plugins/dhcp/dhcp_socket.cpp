#include "plugins/dhcp/dhcp_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "libnet/link.hpp"
#include "libnet/netlink.hpp"

namespace tether::dhcp {

namespace {

constexpr uint16_t kClientPort = 68, kServerPort = 67;

// One's-complement sum over bytes (big-endian 16-bit words), not yet folded/inverted.
uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += uint32_t(p[i]) << 8 | p[i + 1];
    if (n % 2) acc += uint32_t(p[n - 1]) << 8;
    return acc;
}

uint16_t fold(uint32_t acc) {
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return uint16_t(~acc);
}

void put16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}

void put32(uint8_t* p, uint32_t v) {
    put16(p, uint16_t(v >> 16));
    put16(p + 2, uint16_t(v));
}

uint16_t get16(const uint8_t* p) {
    return uint16_t(p[0] << 8 | p[1]);
}

// IPv4 + UDP headers around `payload`, 68 -> 67, checksums filled in.
std::vector<uint8_t> ipUdpPacket(const std::vector<uint8_t>& payload, Ip4 src, Ip4 dst) {
    const size_t udpLen = 8 + payload.size(), total = 20 + udpLen;
    std::vector<uint8_t> pkt(total, 0);
    uint8_t* ip = pkt.data();
    ip[0] = 0x45; // version 4, 5-word header
    ip[1] = 0x10; // low delay, as DHCP clients set it
    put16(ip + 2, uint16_t(total));
    ip[8] = 64;          // TTL
    ip[9] = IPPROTO_UDP; // protocol
    put32(ip + 12, src); // addresses
    put32(ip + 16, dst);
    put16(ip + 10, fold(sum16(ip, 20)));
    uint8_t* udp = ip + 20;
    put16(udp, kClientPort);
    put16(udp + 2, kServerPort);
    put16(udp + 4, uint16_t(udpLen));
    std::memcpy(udp + 8, payload.data(), payload.size());
    // Pseudo header: src, dst, protocol, UDP length.
    uint32_t acc = sum16(ip + 12, 8) + IPPROTO_UDP + uint32_t(udpLen);
    uint16_t c = fold(sum16(udp, udpLen, acc));
    put16(udp + 6, c == 0 ? 0xffff : c);
    return pkt;
}

// The UDP payload of an IPv4 packet for our client port; nullptr when it is not one.
const uint8_t* udpPayload(const uint8_t* p, size_t n, size_t& len) {
    if (n < 20 || (p[0] >> 4) != 4) return nullptr;
    const size_t ihl = size_t(p[0] & 15) * 4;
    if (ihl < 20 || n < ihl + 8 || p[9] != IPPROTO_UDP) return nullptr;
    if ((get16(p + 6) & 0x3fff) != 0) return nullptr; // a fragment
    const size_t total = std::min<size_t>(get16(p + 2), n);
    const uint8_t* udp = p + ihl;
    if (get16(udp + 2) != kClientPort) return nullptr;
    const size_t udpLen = get16(udp + 4);
    if (udpLen < 8 || ihl + udpLen > total) return nullptr;
    len = udpLen - 8;
    return udp + 8;
}

Expected<net::LinkInfo> waitForLink(const net::Netns& ns, const std::string& ifname, int waitMs) {
    auto sock = TRY(net::NetlinkSocket::openIn(ns));
    const int64_t deadline = monotonicMs() + waitMs;
    for (;;) {
        if (auto link = TRY(net::findLink(sock, ifname))) {
            if (!link->up) TRY(net::setLinkUp(sock, link->index, true));
            return *link;
        }
        if (monotonicMs() >= deadline)
            return fail(Code::TryAgainLater, "interface " + ifname + " not found in " + ns.path() +
                                                 " after " + std::to_string(waitMs) + " ms");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

} // namespace

int64_t monotonicMs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

Expected<DhcpSocket> DhcpSocket::open(const net::Netns& ns, const std::string& ifname, int waitMs) {
    const auto link = TRY(waitForLink(ns, ifname, waitMs));
    DhcpSocket s;
    s.ifindex_ = link.index;
    s.ifname_ = ifname;
    if (auto mac = net::parseMac(link.mac)) s.mac_ = *mac;
    TRY(net::inNetns(ns, [&]() -> Status {
        s.packet_ = UniqueFd(
            ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP)));
        if (!s.packet_) return failErrno("packet socket on " + ifname, errno);
        sockaddr_ll ll{};
        ll.sll_family = AF_PACKET;
        ll.sll_protocol = htons(ETH_P_IP);
        ll.sll_ifindex = link.index;
        if (::bind(s.packet_.get(), reinterpret_cast<sockaddr*>(&ll), sizeof(ll)) != 0)
            return failErrno("bind packet socket to " + ifname, errno);
        s.udp_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!s.udp_) return failErrno("UDP socket on " + ifname, errno);
        int one = 1;
        (void)::setsockopt(s.udp_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (::setsockopt(s.udp_.get(), SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(),
                         socklen_t(ifname.size())) != 0)
            return failErrno("bind UDP socket to device " + ifname, errno);
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(kClientPort);
        // Best effort: only a sink for replies to the configured address (the packet socket
        // reads them); another attachment in this netns may hold port 68 already.
        (void)::bind(s.udp_.get(), reinterpret_cast<sockaddr*>(&in), sizeof(in));
        return {};
    }));
    return s;
}

namespace {

Status sendFrame(int fd, int ifindex, const std::vector<uint8_t>& pkt,
                 const std::array<uint8_t, 6>& mac, const std::string& what) {
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_IP);
    ll.sll_ifindex = ifindex;
    ll.sll_halen = 6;
    std::memcpy(ll.sll_addr, mac.data(), 6);
    if (::sendto(fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&ll), sizeof(ll)) < 0)
        return failErrno(what, errno);
    return {};
}

} // namespace

Status DhcpSocket::sendBroadcast(const std::vector<uint8_t>& payload, Ip4 src) {
    std::array<uint8_t, 6> all;
    all.fill(0xff);
    return sendFrame(packet_.get(), ifindex_, ipUdpPacket(payload, src, 0xffffffff), all,
                     "send DHCP broadcast on " + ifname_);
}

Status DhcpSocket::sendUnicast(const std::vector<uint8_t>& payload, Ip4 src, Ip4 dst,
                               const std::array<uint8_t, 6>& mac) {
    return sendFrame(packet_.get(), ifindex_, ipUdpPacket(payload, src, dst), mac,
                     "send DHCP message to " + ip4String(dst) + " on " + ifname_);
}

std::optional<ServerMessage> DhcpSocket::receive(uint32_t xid, int64_t deadlineMs) {
    uint8_t buf[2048];
    for (;;) {
        // Drain the UDP socket: the same replies arrive there once the address is configured,
        // and the packet socket already sees them.
        while (::recv(udp_.get(), buf, sizeof(buf), 0) > 0) {
        }
        sockaddr_ll from{};
        socklen_t fromLen = sizeof(from);
        ssize_t n = ::recvfrom(packet_.get(), buf, sizeof(buf), 0,
                               reinterpret_cast<sockaddr*>(&from), &fromLen);
        if (n > 0) {
            if (from.sll_pkttype == PACKET_OUTGOING) continue;
            size_t len = 0;
            const uint8_t* p = udpPayload(buf, size_t(n), len);
            if (!p) continue;
            auto m = decode(p, len);
            if (m && m->xid == xid && m->chaddr == mac_) {
                if (from.sll_halen == 6) std::memcpy(peerMac_.data(), from.sll_addr, 6);
                return m;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        const int64_t left = deadlineMs - monotonicMs();
        if (left <= 0) return std::nullopt;
        if (n < 0 && errno != EAGAIN) { // interface gone or down: wait, like a timeout
            ::poll(nullptr, 0, int(left));
            return std::nullopt;
        }
        pollfd p[2] = {{packet_.get(), POLLIN, 0}, {udp_.get(), POLLIN, 0}};
        if (::poll(p, 2, int(left)) < 0 && errno != EINTR) return std::nullopt;
    }
}

} // namespace tether::dhcp
