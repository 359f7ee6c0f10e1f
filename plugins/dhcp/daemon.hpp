// `dhcp daemon`: the long-running half of the dhcp IPAM plugin. It listens on a unix socket
// (rpc.hpp protocol), keeps one Lease per client ID and answers add/del/check/status.
#pragma once

#include <optional>
#include <string>

#include "base/error.hpp"

namespace tether::dhcp {

/// Command-line options of `dhcp daemon`, with the reference's defaults.
struct DaemonOptions {
    std::string socketPath = "/run/cni/dhcp.sock"; ///< -socketpath
    std::string hostPrefix;                        ///< -hostprefix: prepended to netns paths
    bool broadcast = false;                        ///< -broadcast: set the BOOTP broadcast flag
    int timeoutMs = 10'000;                        ///< -timeout: default acquisition deadline
    int resendMaxMs = 62'000;                      ///< -resendmax: longest retransmission gap
};

/// A Go-style duration ("10s", "1m30s", "500ms", "2h"; a bare number is seconds) in ms, at
/// most one hour; nullopt when malformed or out of range.
std::optional<int> parseDurationMs(const std::string& text);

/// Parses the arguments after `daemon` (-flag value or -flag=value, one or two dashes). Code 7
/// naming the flag on an unknown flag or bad value.
Expected<DaemonOptions> parseDaemonArgs(int argc, char** argv);

/// Runs the daemon until SIGTERM/SIGINT: creates the socket's directory, refuses to start when
/// another daemon answers on the socket (code 102), replaces a stale socket file, serves
/// requests (one thread each, at most 64 at once). Returns only on a startup error; on a signal
/// it removes the socket file and ends the process (exit 0) without waiting for requests in
/// flight. Leases are not released on exit (containers keep their addresses until they run out).
Status runDaemon(const DaemonOptions& opts);

/// main() of `dhcp daemon ...`: parses, runs, prints errors on stderr; exit code 0 or 1.
int daemonMain(int argc, char** argv);

} // namespace tether::dhcp
