// Executing a network list with libcni's semantics: ADD in order with prevResult chaining, DEL in
// reverse with the cached result, CHECK forward, STATUS, GC with valid attachments. The stdin each
// plugin gets matches libcni's: the plugin object as written plus name, cniVersion, prevResult
// (not on the first ADD) and runtimeConfig (only the capabilities the plugin declares and the
// caller provides).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "cni/result.hpp"
#include "libcni/netconf.hpp"

namespace tether::rt {

/// One attachment's parameters (libcni's RuntimeConf).
struct RuntimeConf {
    std::string containerId;
    std::string netns;
    std::string ifname = "eth0";
    std::vector<std::pair<std::string, std::string>> args; ///< CNI_ARGS pairs
    nlohmann::json capabilityArgs = nlohmann::json::object();
};

/// How plugins are found and run.
struct ExecEnv {
    std::string cniPath;                      ///< ':'-separated plugin dirs
    std::chrono::milliseconds timeout{60000}; ///< per plugin exec
};

/// The stdin JSON for one plugin of `list` (exposed for tests). `prevResult` may be null.
nlohmann::json pluginStdin(const NetworkList& list, const nlohmann::json& plugin,
                           const RuntimeConf& rt, const nlohmann::json* prevResult);

/// ADD of every plugin in order; returns the final result (JSON in the list's version).
/// Validates container ID, network name and ifname first. Stops at the first failure, whose
/// error is wrapped as libcni does: plugin type="bridge" name="net" failed (add): ...
Expected<nlohmann::json> addList(const NetworkList& list, const RuntimeConf& rt,
                                 const ExecEnv& env);

/// DEL of every plugin in reverse order with `cached` as prevResult (only for lists >= 0.4.0,
/// converted to the list's version). Continues past failures and returns them joined.
Status delList(const NetworkList& list, const RuntimeConf& rt, const ExecEnv& env,
               const std::optional<nlohmann::json>& cached);

/// CHECK forward with prevResult. Refused below 0.4.0; disableCheck makes it a no-op.
Status checkList(const NetworkList& list, const RuntimeConf& rt, const ExecEnv& env,
                 const nlohmann::json& cached);

/// STATUS of every plugin (>= 1.1.0; older lists succeed without asking).
Status statusList(const NetworkList& list, const ExecEnv& env);

/// GC of every plugin with cni.dev/valid-attachments (and the older cni.dev/attachments);
/// continues past failures. disableGC or a list < 1.1.0: no-op.
Status gcPlugins(const NetworkList& list, const ExecEnv& env,
                 const std::vector<std::pair<std::string, std::string>>& valid);

/// The spec versions the plugin of `plugin` (its "type") says it supports (CNI VERSION, asked
/// with the list's cniVersion). Errors: plugin not found, a failing VERSION, or an answer
/// without a supportedVersions array of strings (Code::DecodeFailure).
Expected<std::vector<std::string>>
pluginSupportedVersions(const NetworkList& list, const nlohmann::json& plugin, const ExecEnv& env);

} // namespace tether::rt
