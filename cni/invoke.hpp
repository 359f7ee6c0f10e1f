// Executing a CNI plugin: find it in CNI_PATH, exec with an env and stdin, collect stdout and
// stderr, map a failure to an Error parsed from the plugin's error JSON. Used by plugins to
// delegate to IPAM and by the runtime to run network lists.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "cni/result.hpp"

namespace tether::cni {

/// Returns the first regular executable file `<dir>/<type>` over the ':'-separated `cniPath`.
/// Code 7 when `type` is unsafe, code 7 "failed to find plugin \"x\" in path [...]" when absent.
Expected<std::string> findInPath(std::string_view type, std::string_view cniPath);

struct ExecRequest {
    std::string pluginPath;                               ///< absolute path of the binary
    std::vector<std::pair<std::string, std::string>> env; ///< CNI_* and extras; replaces same keys
    bool inheritEnv = true;                               ///< start from our own environ
    std::string stdinData;
    std::chrono::milliseconds timeout{60000}; ///< killed (SIGKILL) past this
};

struct ExecOutput {
    std::string out;
    std::string err;
};

/// Runs the plugin (posix_spawn, no shell, other fds closed; ETXTBSY retried). On exit 0 returns
/// its stdout/stderr. On non-zero exit returns the Error decoded from stdout's error JSON
/// (code/msg/details preserved), or "netplugin failed: <stderr>" (code 999) when stdout holds no
/// JSON. Timeout: code 11.
Expected<ExecOutput> execPlugin(const ExecRequest& req);

/// What a plugin did, uninterpreted: exit code (128 + signal when killed), stdout, stderr.
struct ExecRawOutput {
    int exitCode = 0;
    int waitStatus = 0; ///< raw waitpid status
    std::string out;
    std::string err;
};

/// Runs the plugin like execPlugin but returns any exit code as data. Errors only when the
/// plugin cannot be started (code 999 with errno), on I/O failure (code 5) or timeout (code 11).
Expected<ExecRawOutput> execPluginRaw(const ExecRequest& req);

/// Delegation helpers for plugins: run `type` from our CNI_PATH with our own environment,
/// CNI_COMMAND overridden, and `stdinData` (the full config, as the spec requires).
/// delegateAdd parses the result in `cniVersion`.
Expected<Result> delegateAdd(std::string_view type, std::string_view stdinData,
                             std::string_view cniVersion);
Status delegateDel(std::string_view type, std::string_view stdinData);
Status delegateCheck(std::string_view type, std::string_view stdinData);
Status delegateStatus(std::string_view type, std::string_view stdinData);
Status delegateGc(std::string_view type, std::string_view stdinData);

} // namespace tether::cni
