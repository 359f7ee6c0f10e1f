// Network operations as a runtime performs them (libcni's *NetworkList calls plus the result
// cache): ADD writes the cache, DEL uses and removes it, GC deletes cached attachments that are
// no longer valid before sending GC to the plugins.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "libcni/attach.hpp"
#include "libcni/list_exec.hpp"
#include "libcni/netconf.hpp"

namespace tether::rt {

/// The built-in network "default": bridge tether0 (10.77.0.0/16, gateway, default route, ipMasq)
/// with host-local leases in /var/lib/tether/networks, then portmap (portMappings capability).
NetworkList builtinDefaultNetwork();

/// The network `name` from paths.configDir; "default" falls back to builtinDefaultNetwork() when
/// the directory has no network of that name (or does not exist).
Expected<NetworkList> resolveNetwork(const NetPaths& paths, const std::string& name);

/// ADD the list; on failure runs DEL for the whole list (the spec requires it) and returns the
/// ADD error. On success caches the result and returns it.
Expected<nlohmann::json> addNetwork(const NetPaths& paths, const NetworkList& list,
                                    const RuntimeConf& rt);
/// DEL with the cached result as prevResult (none cached: DEL without prevResult); removes the
/// cache entry when every plugin succeeded.
Status delNetwork(const NetPaths& paths, const NetworkList& list, const RuntimeConf& rt);
/// CHECK against the cached result (code 3 when nothing is cached).
Status checkNetwork(const NetPaths& paths, const NetworkList& list, const RuntimeConf& rt);
/// DEL every cached attachment of the list not in `valid` (containerID, ifname), then GC the
/// plugins. With `valid` empty, every cached attachment is deleted (cnitool gc).
Status gcNetwork(const NetPaths& paths, const NetworkList& list,
                 const std::vector<std::pair<std::string, std::string>>& valid);

/// ExecEnv for `paths`.
ExecEnv execEnv(const NetPaths& paths);

} // namespace tether::rt
