// The commands acting on existing containers: ps, inspect, exec, kill, pause/resume, rm, gc.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {

/// The state of every container with its live status (for `ps`).
std::vector<nlohmann::json> listContainerStates(const LauncherPaths& paths);
/// state.json of `id` with "status" replaced by the live status. Unknown id: UnknownContainer.
Expected<nlohmann::json> inspectContainer(const LauncherPaths& paths, const std::string& id);
/// Runs `argv` inside running container `id`: joins its cgroup and every namespace (user first,
/// mount last), applies its capabilities, user, no_new_privs and seccomp, forwards signals.
/// Returns the exit code (128+signal when killed, 126/127 when exec failed).
Expected<int> execInContainer(const LauncherPaths& paths, const std::string& id,
                              const std::vector<std::string>& argv,
                              const std::vector<std::string>& env, const std::string& workdir);
/// Sends `sig` to the container's PID 1. A container that is not running is an error.
Status killContainer(const LauncherPaths& paths, const std::string& id, int sig);
/// Freezes or thaws every process of the container (cgroup freezer).
Status pauseContainer(const LauncherPaths& paths, const std::string& id, bool pause);
/// Removes an exited container. A running one is an error unless `force`: then it is killed,
/// its supervisor is given up to 5 s to finish, and the full teardown is replayed.
Status removeContainer(const LauncherPaths& paths, const std::string& id, bool force);
/// Reconciles leftovers after crashes: state dirs whose container and supervisor are gone are
/// torn down (cgroup, network via detachNetworks, pinned netns) and removed; cgroups under the
/// tether parent and pinned tether-* netns without a state dir are removed. Returns one line per
/// action.
std::vector<std::string> gcContainers(const LauncherPaths& paths);

} // namespace tether::rt
