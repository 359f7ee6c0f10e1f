// Runs one network list (conflist) for one container the way libcni does — ADD in order with
// prevResult chaining, DEL in reverse with the final result — and times the plugin execs.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace tether::bench {

struct ChainCall {
    std::string pluginDir; ///< CNI_PATH (one directory)
    std::string containerId;
    std::string netns;
    std::string ifname = "eth0";
    nlohmann::json capabilityArgs = nlohmann::json::object(); ///< e.g. portMappings
};

struct ChainTiming {
    double ms = 0;         ///< wall time of all plugin execs of the operation
    nlohmann::json result; ///< ADD: the final result
};

/// ADD of every plugin in `list` in order. Fails on the first plugin error.
Expected<ChainTiming> chainAdd(const nlohmann::json& list, const ChainCall& call);
/// DEL of every plugin in reverse with `prevResult`. Fails on the first plugin error.
Expected<ChainTiming> chainDel(const nlohmann::json& list, const ChainCall& call,
                               const nlohmann::json& prevResult);

} // namespace tether::bench
