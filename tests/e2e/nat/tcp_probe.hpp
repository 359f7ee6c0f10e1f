// Tiny TCP probes run inside a network namespace, for NAT tests: a listener that reports the
// peer address of the first connection, and a connect that reports success.
#pragma once

#include <future>
#include <string>

#include "libnet/netns.hpp"

namespace tether::test {

/// Listens on 0.0.0.0:port (or [::]:port when v6) inside `ns`; the future yields the peer address
/// of the first accepted connection, or "" if none arrives within `timeoutMs`.
std::future<std::string> acceptOnce(const net::Netns& ns, int port, int timeoutMs = 3000,
                                    bool v6 = false);

/// Connects from inside `ns` to ip:port; true when the TCP handshake completes in time.
bool connectFrom(const net::Netns& ns, const std::string& ip, int port, int timeoutMs = 2000);

} // namespace tether::test
