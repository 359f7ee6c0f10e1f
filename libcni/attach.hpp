// What the launcher needs from network execution: attach a container's netns to one or more
// networks (ifnames eth0, eth1, ... in order) and detach it again. Built on the list executor
// (libcni semantics, result cache); see docs/runtime.md.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "cni/result.hpp"

namespace tether::rt {

/// Where configs, plugins and the result cache live. Config and cache dirs follow libcni/cnitool;
/// the plugin path is this build's compiled-in plugin dir (docs/packaging.md). fromEnv() applies
/// the environment (NETCONFPATH, CNI_PATH, CNI_CACHE_DIR).
struct NetPaths {
    std::string configDir = "/etc/cni/net.d";
    std::string cniPath = defaultCniPath();
    std::string cacheDir = "/var/lib/cni";
    /// Defaults overridden by NETCONFPATH, CNI_PATH and CNI_CACHE_DIR when set.
    static NetPaths fromEnv();
    /// The plugin path used when CNI_PATH is unset: the directory of the running binary if it
    /// holds our plugins (build/bin), the install tree's plugin dir reached from the binary (a
    /// relocated tree finds its own plugins), then the compiled-in plugin dir; duplicates dropped.
    static std::string defaultCniPath();
};

/// One container's request. `networks` are network names; the name "default" resolves to the
/// built-in default network when no config of that name exists.
struct AttachRequest {
    std::string containerId;
    std::string netnsPath;
    std::vector<std::string> networks;
    nlohmann::json capabilityArgs = nlohmann::json::object(); ///< e.g. {"portMappings": [...]}
    std::vector<std::pair<std::string, std::string>> cniArgs;
};

struct Attached {
    std::string network;
    std::string ifname;
    cni::Result result;
};

/// ADDs every network in order (eth0, eth1, ...). On any failure, DELs everything attempted so
/// far (including the failed one, as the spec requires) and returns the ADD error.
Expected<std::vector<Attached>> attachNetworks(const NetPaths& paths, const AttachRequest& req);

/// DELs every network in reverse order using the cached results; tolerates a missing netns and
/// missing cache entries; continues past errors and returns them joined.
Status detachNetworks(const NetPaths& paths, const AttachRequest& req);

} // namespace tether::rt
