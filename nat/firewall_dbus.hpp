// firewalld over D-Bus (the system bus; $DBUS_SYSTEM_BUS_ADDRESS is honoured): the container's
// addresses become sources of a zone, as the reference plugin does. sd-bus (libsystemd.so.0) is
// loaded with dlopen only when this backend is used.
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"

namespace tether::nat::fw {

inline constexpr const char* kFirewalldName = "org.fedoraproject.FirewallD1";

/// Ok when the system bus answers and `org.fedoraproject.FirewallD1` has an owner on it; else
/// code 50 naming the backend and what is missing (no libsystemd, no bus, no owner).
Status firewalldAvailable();

/// zone.addSource(zone, "<ip>/32|/128") for each address; ZONE_ALREADY_SET is success. Code 50
/// when firewalld is not available, 100 with firewalld's error otherwise.
Status firewalldAdd(const std::string& zone, const std::vector<net::IpAddress>& ips);

/// zone.removeSource for each address. Success when firewalld is not running (its runtime
/// sources are gone with it) or an address is not a source; other errors are collected.
Status firewalldRemove(const std::string& zone, const std::vector<net::IpAddress>& ips);

/// zone.querySource for each address: code 999 naming the first one that is not a source.
Status firewalldCheck(const std::string& zone, const std::vector<net::IpAddress>& ips);

} // namespace tether::nat::fw
