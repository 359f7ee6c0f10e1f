#include "libnet/arp.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include <cstring>

#include "base/unique_fd.hpp"
#include "libnet/link.hpp"

namespace tether::net {

namespace {

// The ARP payload for Ethernet/IPv4 (RFC 826), packed as it goes on the wire.
struct [[gnu::packed]] ArpPacket {
    uint16_t htype, ptype;
    uint8_t hlen, plen;
    uint16_t op;
    uint8_t sha[6], spa[4], tha[6], tpa[4];
};
static_assert(sizeof(ArpPacket) == 28);

} // namespace

Status sendGratuitousArp(const Netns& ns, int ifindex, std::string_view mac, const IpAddress& ip) {
    if (!ip.isV4())
        return fail(Code::InvalidConfig, "gratuitous ARP needs an IPv4 address, not " + ip.str());
    auto hw = parseMac(mac);
    if (!hw) return fail(Code::InvalidConfig, "invalid MAC address \"" + std::string(mac) + "\"");
    // The packet socket belongs to the netns it is created in; created inside, used from here.
    auto fd = TRY(inNetns(ns, [&]() -> Expected<UniqueFd> {
        int s = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
        if (s < 0) return failErrno("open packet socket in " + ns.path(), errno);
        return UniqueFd(s);
    }));
    ArpPacket p{};
    p.htype = htons(ARPHRD_ETHER);
    p.ptype = htons(ETH_P_IP);
    p.hlen = 6;
    p.plen = 4;
    p.op = htons(ARPOP_REQUEST);
    std::memcpy(p.sha, hw->data(), 6);
    std::memcpy(p.spa, ip.bytes(), 4);
    std::memcpy(p.tpa, ip.bytes(), 4);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = ifindex;
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    if (::sendto(fd.get(), &p, sizeof(p), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0)
        return failErrno("send gratuitous ARP for " + ip.str(), errno);
    return {};
}

} // namespace tether::net
