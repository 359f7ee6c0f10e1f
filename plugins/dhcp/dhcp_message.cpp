#include "plugins/dhcp/dhcp_message.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace tether::dhcp {

namespace {

constexpr uint8_t kMagic[4] = {99, 130, 83, 99};
constexpr size_t kFixed = 236; // BOOTP header up to (not including) the magic cookie

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    b[at] = uint8_t(v >> 24);
    b[at + 1] = uint8_t(v >> 16);
    b[at + 2] = uint8_t(v >> 8);
    b[at + 3] = uint8_t(v);
}

uint32_t get32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

void addOption(std::vector<uint8_t>& b, uint8_t code, const std::vector<uint8_t>& value) {
    size_t len = value.size() > 255 ? 255 : value.size();
    b.push_back(code);
    b.push_back(uint8_t(len));
    for (size_t i = 0; i < len; ++i)
        b.push_back(value[i]);
}

std::vector<uint8_t> ipBytes(Ip4 ip) {
    return {uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8), uint8_t(ip)};
}

// Reads options from [p, end) into `out`; returns the overload value (option 52) if any.
uint8_t readOptions(const uint8_t* p, const uint8_t* end,
                    std::map<uint8_t, std::vector<uint8_t>>& out) {
    uint8_t overload = 0;
    while (p < end) {
        uint8_t code = *p++;
        if (code == opt::Pad) continue;
        if (code == opt::End || p >= end) break;
        uint8_t len = *p++;
        if (size_t(end - p) < len) break;
        auto& v = out[code];
        v.insert(v.end(), p, p + len);
        if (code == 52 && len == 1) overload = p[0];
        p += len;
    }
    return overload;
}

} // namespace

std::string ip4String(Ip4 ip) {
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
           std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

std::vector<uint8_t> encode(const ClientMessage& m) {
    std::vector<uint8_t> b;
    b.reserve(576); // RFC 2131 minimum maximum message size; one allocation
    b.resize(kFixed, 0);
    b[0] = 1; // BOOTREQUEST
    b[1] = 1; // Ethernet
    b[2] = 6;
    put32(b, 4, m.xid);
    if (m.broadcast) b[10] = 0x80;
    put32(b, 12, m.ciaddr);
    std::memcpy(&b[28], m.mac.data(), 6);
    for (uint8_t c : kMagic)
        b.push_back(c);
    addOption(b, opt::MessageType, {uint8_t(m.type)});
    if (m.requestedIp) addOption(b, opt::RequestedIp, ipBytes(*m.requestedIp));
    if (m.serverId) addOption(b, opt::ServerId, ipBytes(*m.serverId));
    if (!m.paramRequest.empty()) addOption(b, opt::ParamRequest, m.paramRequest);
    for (const auto& [code, value] : m.options)
        if (code != opt::MessageType && code != opt::ParamRequest && code != opt::Pad &&
            code != opt::End)
            addOption(b, code, value);
    b.push_back(opt::End);
    if (b.size() < 300) b.resize(300, 0); // BOOTP minimum; some servers drop shorter ones
    return b;
}

std::optional<ServerMessage> decode(const uint8_t* data, size_t len) {
    if (len < kFixed + 4 || data[0] != 2 || data[1] != 1 || data[2] != 6) return std::nullopt;
    if (std::memcmp(data + kFixed, kMagic, 4) != 0) return std::nullopt;
    ServerMessage m;
    m.xid = get32(data + 4);
    m.yiaddr = get32(data + 16);
    m.siaddr = get32(data + 20);
    std::memcpy(m.chaddr.data(), data + 28, 6);
    uint8_t overload = readOptions(data + kFixed + 4, data + len, m.options);
    if (overload & 1) readOptions(data + 108, data + 236, m.options); // file field
    if (overload & 2) readOptions(data + 44, data + 108, m.options);  // sname field
    auto t = m.options.find(opt::MessageType);
    if (t == m.options.end() || t->second.size() != 1) return std::nullopt;
    m.type = MsgType(t->second[0]);
    return m;
}

std::optional<Ip4> ServerMessage::address(uint8_t code) const {
    auto it = options.find(code);
    if (it == options.end() || it->second.size() < 4) return std::nullopt;
    return get32(it->second.data());
}

std::optional<uint32_t> ServerMessage::u32(uint8_t code) const {
    auto it = options.find(code);
    if (it == options.end() || it->second.size() != 4) return std::nullopt;
    return get32(it->second.data());
}

std::optional<int> maskPrefix(Ip4 mask) {
    int n = 0;
    while (n < 32 && (mask & (0x80000000u >> n)))
        ++n;
    Ip4 expect = n == 0 ? 0 : ~Ip4(0) << (32 - n);
    if (mask != expect) return std::nullopt;
    return n;
}

namespace {

// RFC 3442: each route is a prefix length, the significant octets of the destination, and a
// 4-byte router. A malformed tail ends the list.
std::vector<Route4> classless(const std::vector<uint8_t>& v) {
    std::vector<Route4> out;
    size_t i = 0;
    while (i < v.size()) {
        int prefix = v[i++];
        if (prefix > 32) break;
        size_t octets = size_t(prefix + 7) / 8;
        if (v.size() - i < octets + 4) break;
        Ip4 dst = 0;
        for (size_t k = 0; k < octets; ++k)
            dst |= Ip4(v[i + k]) << (24 - 8 * k);
        i += octets;
        Route4 r{.dst = dst, .prefix = prefix, .gw = get32(&v[i])};
        if (prefix < 32) r.dst &= prefix == 0 ? 0 : ~Ip4(0) << (32 - prefix);
        i += 4;
        out.push_back(r);
    }
    return out;
}

// Option 33 destinations are classful: the prefix follows the address class.
int classfulPrefix(Ip4 dst) {
    if ((dst >> 31) == 0) return 8;
    if ((dst >> 30) == 2) return 16;
    return 24;
}

} // namespace

std::vector<Route4> leaseRoutes(const ServerMessage& ack) {
    if (auto it = ack.options.find(opt::ClasslessRoutes); it != ack.options.end()) {
        auto routes = classless(it->second);
        if (!routes.empty()) return routes;
    }
    std::vector<Route4> out;
    if (auto it = ack.options.find(opt::StaticRoutes); it != ack.options.end())
        for (size_t i = 0; i + 8 <= it->second.size(); i += 8) {
            Ip4 dst = get32(&it->second[i]);
            // A destination with bits past its class (10.1.0.0) keeps them: the prefix grows to
            // cover its lowest set bit, since the kernel refuses a route with host bits set.
            int prefix = classfulPrefix(dst);
            if (dst != 0) prefix = std::max(prefix, 32 - std::countr_zero(dst));
            out.push_back({.dst = dst, .prefix = prefix, .gw = get32(&it->second[i + 4])});
        }
    if (auto gw = ack.address(opt::Router)) out.push_back({.dst = 0, .prefix = 0, .gw = *gw});
    return out;
}

} // namespace tether::dhcp
