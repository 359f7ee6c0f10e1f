// IP address and prefix value types (IPv4 and IPv6), pure and kernel-free: parsing, formatting
// in the kernel's/Go's canonical text, arithmetic used by IPAM.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace tether::net {

enum class Family : uint8_t { V4 = 4, V6 = 6 };

/// One address. Stored in network byte order in 16 bytes; IPv4 uses the first 4.
class IpAddress {
  public:
    IpAddress() = default;
    /// Parses dotted IPv4 or RFC 4291 IPv6 text (no brackets, no zone). nullopt if invalid.
    static std::optional<IpAddress> parse(std::string_view text);
    static IpAddress v4(uint32_t hostOrder);
    static IpAddress fromBytes(Family f, const uint8_t* bytes);

    [[nodiscard]] Family family() const { return family_; }
    [[nodiscard]] bool isV4() const { return family_ == Family::V4; }
    [[nodiscard]] int bits() const { return isV4() ? 32 : 128; }
    [[nodiscard]] const uint8_t* bytes() const { return bytes_.data(); }
    [[nodiscard]] size_t size() const { return isV4() ? 4 : 16; }
    /// Canonical text: "10.0.0.1", "fd00::1" (RFC 5952, as inet_ntop and Go print it).
    [[nodiscard]] std::string str() const;
    /// address + n (n may be negative); wraps within the family's space.
    [[nodiscard]] IpAddress offset(int64_t n) const;
    [[nodiscard]] IpAddress next() const { return offset(1); }
    [[nodiscard]] IpAddress prev() const { return offset(-1); }
    [[nodiscard]] bool isMulticast() const;
    [[nodiscard]] bool isUnspecified() const;

    auto operator<=>(const IpAddress&) const = default;

  private:
    Family family_ = Family::V4;
    std::array<uint8_t, 16> bytes_{};
};

/// An address with a prefix length ("10.1.0.5/16"). The address may have host bits set.
class IpPrefix {
  public:
    IpPrefix() = default;
    IpPrefix(IpAddress a, int len) : addr_(a), len_(len) {}
    /// Parses "addr/len"; len in 0..32 or 0..128. nullopt if invalid.
    static std::optional<IpPrefix> parse(std::string_view text);
    /// Parses a CIDR; a bare address gets the full-length prefix (/32 or /128).
    static std::optional<IpPrefix> parseLenient(std::string_view text);

    [[nodiscard]] const IpAddress& address() const { return addr_; }
    [[nodiscard]] int length() const { return len_; }
    [[nodiscard]] Family family() const { return addr_.family(); }
    /// The network address (host bits cleared).
    [[nodiscard]] IpAddress network() const;
    /// The last address of the prefix (all host bits set).
    [[nodiscard]] IpAddress last() const;
    /// This prefix with host bits cleared.
    [[nodiscard]] IpPrefix masked() const { return {network(), len_}; }
    [[nodiscard]] bool hasHostBits() const { return network() != addr_; }
    [[nodiscard]] bool contains(const IpAddress& a) const;
    [[nodiscard]] bool overlaps(const IpPrefix& o) const;
    /// "10.1.0.5/16"
    [[nodiscard]] std::string str() const;

    auto operator<=>(const IpPrefix&) const = default;

  private:
    IpAddress addr_;
    int len_ = 0;
};

} // namespace tether::net
