#include "libnet/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace tether::net {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    std::string s(text);
    uint8_t buf[16]{};
    if (s.find(':') == std::string::npos) {
        if (inet_pton(AF_INET, s.c_str(), buf) != 1) return std::nullopt;
        return fromBytes(Family::V4, buf);
    }
    if (inet_pton(AF_INET6, s.c_str(), buf) != 1) return std::nullopt;
    return fromBytes(Family::V6, buf);
}

IpAddress IpAddress::v4(uint32_t hostOrder) {
    uint8_t b[4] = {uint8_t(hostOrder >> 24), uint8_t(hostOrder >> 16), uint8_t(hostOrder >> 8),
                    uint8_t(hostOrder)};
    return fromBytes(Family::V4, b);
}

IpAddress IpAddress::fromBytes(Family f, const uint8_t* bytes) {
    IpAddress a;
    a.family_ = f;
    std::memcpy(a.bytes_.data(), bytes, f == Family::V4 ? 4 : 16);
    return a;
}

std::string IpAddress::str() const {
    char buf[INET6_ADDRSTRLEN]{};
    inet_ntop(isV4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
    return buf;
}

IpAddress IpAddress::offset(int64_t n) const {
    IpAddress r = *this;
    const int len = static_cast<int>(size());
    // Add/subtract |n| as a big-endian multi-byte integer, wrapping on overflow.
    uint64_t mag = n < 0 ? uint64_t(-(n + 1)) + 1 : uint64_t(n);
    if (n >= 0) {
        unsigned carry = 0;
        for (int i = len - 1; i >= 0; --i) {
            unsigned sum = r.bytes_[i] + unsigned(mag & 0xff) + carry;
            r.bytes_[i] = uint8_t(sum);
            carry = sum >> 8;
            mag >>= 8;
        }
    } else {
        int borrow = 0;
        for (int i = len - 1; i >= 0; --i) {
            int diff = int(r.bytes_[i]) - int(mag & 0xff) - borrow;
            borrow = diff < 0 ? 1 : 0;
            r.bytes_[i] = uint8_t(diff + (borrow << 8));
            mag >>= 8;
        }
    }
    return r;
}

bool IpAddress::isMulticast() const {
    return isV4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddress::isUnspecified() const {
    return std::all_of(bytes_.begin(), bytes_.begin() + long(size()),
                       [](uint8_t b) { return b == 0; });
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    auto lenText = text.substr(slash + 1);
    int len = -1;
    auto [p, ec] = std::from_chars(lenText.data(), lenText.data() + lenText.size(), len);
    if (ec != std::errc() || p != lenText.data() + lenText.size() || lenText.empty())
        return std::nullopt;
    if (len < 0 || len > addr->bits()) return std::nullopt;
    return IpPrefix(*addr, len);
}

std::optional<IpPrefix> IpPrefix::parseLenient(std::string_view text) {
    if (text.find('/') != std::string_view::npos) return parse(text);
    auto addr = IpAddress::parse(text);
    if (!addr) return std::nullopt;
    return IpPrefix(*addr, addr->bits());
}

IpAddress IpPrefix::network() const {
    uint8_t b[16];
    std::memcpy(b, addr_.bytes(), addr_.size());
    for (int i = 0; i < int(addr_.size()); ++i) {
        int keep = std::clamp(len_ - i * 8, 0, 8);
        b[i] &= uint8_t(0xff00 >> keep);
    }
    return IpAddress::fromBytes(addr_.family(), b);
}

IpAddress IpPrefix::last() const {
    uint8_t b[16];
    std::memcpy(b, addr_.bytes(), addr_.size());
    for (int i = 0; i < int(addr_.size()); ++i) {
        int keep = std::clamp(len_ - i * 8, 0, 8);
        b[i] |= uint8_t(0xff >> keep);
    }
    return IpAddress::fromBytes(addr_.family(), b);
}

bool IpPrefix::contains(const IpAddress& a) const {
    return a.family() == family() && IpPrefix(a, len_).network() == network();
}

bool IpPrefix::overlaps(const IpPrefix& o) const {
    if (o.family() != family()) return false;
    return contains(o.network()) || o.contains(network());
}

std::string IpPrefix::str() const {
    return addr_.str() + "/" + std::to_string(len_);
}

} // namespace tether::net
