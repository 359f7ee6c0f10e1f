// Running a host tool (iptables-save, iptables-restore) from a plugin: no shell, stdin from a
// buffer, stdout and stderr collected. Used by the iptables NAT backend only.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace tether::nat {

/// What the tool did: its exit code (128 + signal when killed), stdout, stderr.
struct ToolRun {
    int exitCode = 0;
    std::string out;
    std::string err;
};

/// The absolute path of executable `name` over $PATH, then /usr/sbin:/sbin:/usr/bin:/bin (a
/// runtime may start plugins with a PATH lacking sbin). nullopt when there is none.
std::optional<std::string> findTool(const std::string& name);

/// Runs `path` with `args` (argv[0] is `path`), `stdinData` on its stdin, our environment.
/// stdin/stdout/stderr are memfds, so no pipe can fill up. Errors only when the tool cannot be
/// started (code 999) or runs past `timeout` (killed; code 11); any exit code is data.
Expected<ToolRun> runTool(const std::string& path, const std::vector<std::string>& args,
                          const std::string& stdinData,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

} // namespace tether::nat
