// The commands acting on existing containers: ps, inspect, exec, kill, pause/resume, rm, gc.
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "runtime/launcher/options.hpp"
#include "runtime/launcher/state.hpp"

namespace tether::rt {

/// The state of every container with its live status (for `ps`). A state dir whose state.json
/// cannot be read is left out; its error (naming the file and key) goes to `unreadable`.
std::vector<ContainerState> listContainerStates(const LauncherPaths& paths,
                                                std::vector<Error>* unreadable = nullptr);
/// The state of `id` with `status` set to the live status. Unknown id: UnknownContainer; a
/// malformed state.json: DecodeFailure naming the file and key.
Expected<ContainerState> inspectContainer(const LauncherPaths& paths, const std::string& id);
/// What `exec` runs and how.
struct ExecOptions {
    std::vector<std::string> argv;
    std::vector<std::string> env; ///< on top of the container's PATH default
    std::string workdir = "/";
    std::string user;         ///< -u USER[:GROUP] resolved in the container's /etc; empty: its user
    bool tty = false;         ///< a pty from the container's devpts, relayed to the caller
    bool interactive = false; ///< stdin kept (else /dev/null)
};
/// Runs `x.argv` inside running container `id`: joins its cgroup and every namespace (user
/// first, mount last), applies its capabilities, user, no_new_privs and seccomp, forwards
/// signals. Returns the exit code (128+signal when killed, 126/127 when exec failed).
Expected<int> execInContainer(const LauncherPaths& paths, const std::string& id,
                              const ExecOptions& x);
/// `stop`: sends the container's stop signal to PID 1, waits up to `timeout` seconds (-1: the
/// container's --stop-timeout) for it to exit, then SIGKILLs the cgroup, and waits for the
/// supervisor to record the exit. Returns what happened when it was not a plain exit on the stop
/// signal ("did not exit within 10 s of SIGTERM: killed"), else "". An exited container is
/// success (nothing to do).
Expected<std::string> stopContainer(const LauncherPaths& paths, const std::string& id, int timeout);
/// `wait`: blocks until `id` has exited and its exit has been recorded; returns its exit code.
Expected<int> waitContainer(const LauncherPaths& paths, const std::string& id);
/// `start`: runs a created or exited container again, detached, with its recorded options.
Status startContainer(const LauncherPaths& paths, const std::string& id);
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
/// action. A state dir whose state.json cannot be read is left alone (with its cgroup and netns
/// pin) and its error goes to `unreadable`.
std::vector<std::string> gcContainers(const LauncherPaths& paths,
                                      std::vector<Error>* unreadable = nullptr);

} // namespace tether::rt
