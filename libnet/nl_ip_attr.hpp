// Internal to libnet: IP addresses in netlink attributes (shared by addr.cpp and route.cpp).
#pragma once

#include <sys/socket.h>

#include <optional>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "libnet/ip.hpp"

namespace tether::net::detail {

/// AF_INET / AF_INET6 of a family.
inline int afOf(Family f) {
    return f == Family::V4 ? AF_INET : AF_INET6;
}

/// Appends attribute `type` holding the address bytes (4 or 16).
inline void putIp(nl_msg* msg, int type, const IpAddress& a) {
    nla_put(msg, type, static_cast<int>(a.size()), a.bytes());
}

/// The address in attribute `a` of family `f`; nullopt when absent or too short.
inline std::optional<IpAddress> getIp(const nlattr* a, Family f) {
    if (!a || nla_len(a) < (f == Family::V4 ? 4 : 16)) return std::nullopt;
    return IpAddress::fromBytes(f, static_cast<const uint8_t*>(nla_data(a)));
}

} // namespace tether::net::detail
