// /proc/sys/net sysctls, read or written in the calling thread's netns or inside a given one
// (through NetnsGuard: /proc/sys/net shows the namespace of the thread that opens the file).
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "libnet/ip.hpp"
#include "libnet/netns.hpp"

namespace tether::net {

/// `key` is either a path relative to /proc/sys ("net/ipv4/ip_forward",
/// "net/ipv6/conf/eth0.100/accept_ra") or, when it has no '/', dotted ("net.ipv4.ip_forward";
/// dots become '/', so use the path form for interface names with dots). Keys outside net/,
/// with ".." components, or resolving through symlinks are refused (code 7). Files are opened
/// O_NOFOLLOW|O_CLOEXEC. A missing key -> code 100 errnum ENOENT naming it.
/// Returns the value with the trailing newline removed.
Expected<std::string> readSysctl(std::string_view key);
Expected<std::string> readSysctl(const Netns& ns, std::string_view key);
/// Writes `value` (a newline is not needed).
Status writeSysctl(std::string_view key, std::string_view value);
Status writeSysctl(const Netns& ns, std::string_view key, std::string_view value);

/// net.ipv4.ip_forward / net.ipv6.conf.all.forwarding in the current netns; skips the write
/// when the value is already set.
Status setForwarding(Family family, bool on);
/// The same inside `ns`.
Status setForwarding(const Netns& ns, Family family, bool on);
/// net/ipv6/conf/<ifname>/accept_ra in the current netns (0 = ignore router advertisements).
/// A missing file (IPv6 disabled) is not an error.
Status setAcceptRa(std::string_view ifname, int value);

} // namespace tether::net
