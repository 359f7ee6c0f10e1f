// Plugins compiled into the running executable. tether's plugins are one multi-call binary
// (plugins/multicall) installed under every plugin name as hard links; when a plugin delegates to
// another one (bridge -> host-local) and CNI_PATH resolves that name to this very file, running
// the handlers in-process gives exactly what the exec would (same code, same environment, same
// stdin, same stdout/stderr/exit code) without a process start. Any other binary — a different
// build, the reference plugin, a third-party IPAM — is executed as usual.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cni/invoke.hpp"
#include "cni/skel.hpp"

namespace tether::cni {

/// Makes `type` runnable in-process. Call before any delegation starts (not thread-safe against
/// concurrent lookups); registering a type again replaces it.
void registerBuiltinPlugin(std::string_view type, PluginFuncs funcs, PluginInfo info);

/// If `type` is registered and `pluginPath` is this executable (same device and inode as
/// /proc/self/exe), runs it through the skeleton with our environment plus `env` overrides and
/// `stdinData`, and returns what the exec would have produced; nullopt otherwise (exec it).
/// A handler that throws is reported as a crashed plugin would be (exit 134, message on stderr).
std::optional<ExecRawOutput> runBuiltin(std::string_view type, const std::string& pluginPath,
                                        const std::vector<std::pair<std::string, std::string>>& env,
                                        std::string_view stdinData);

/// If `type` resolves over CNI_PATH to this executable and is registered with a `validate`
/// handler, runs it on `args` (the delegating plugin's own request: same environment and stdin a
/// delegate would get) and returns its verdict; otherwise succeeds (an external plugin checks its
/// own config when it runs). Errors are wrapped with "ipam" context by the caller.
Status validateBuiltinDelegate(std::string_view type, const CmdArgs& args);

} // namespace tether::cni
