// What `ps` and `inspect` show: a table or JSON list of containers, and the inspect view of one
// state (times in RFC 3339, capabilities by name, IP and MAC per network, the OOM flag).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/launcher/state.hpp"

namespace tether::rt {

struct PsOptions {
    bool all = false;   ///< exited and created containers too
    bool quiet = false; ///< ids only
    bool noTrunc = false;
    std::string format = "table"; ///< table | json
};

/// `ps` output for `states` (each with its live "status", from listContainerStates).
std::string formatPs(const std::vector<ContainerState>& states, const PsOptions& o);

/// `inspect` output of one state: the recorded state plus "state" (status, running, paused,
/// oomKilled, exitCode, pid, startedAt/finishedAt), "created" in RFC 3339, "capabilities" by
/// name, "networks" {name: {ifname, ips, mac}} and "ports".
nlohmann::json inspectView(const ContainerState& state);

/// "2026-12-07T05:40:00Z" for epoch seconds (UTC).
std::string rfc3339(int64_t epochSeconds);

} // namespace tether::rt
