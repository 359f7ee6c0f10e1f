// Shared between container.cpp (starting the container process) and run.cpp (run, create,
// start: state dir, supervisor, I/O). Internal to runtime/launcher.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "runtime/launcher/options.hpp"
#include "runtime/launcher/state.hpp"

namespace tether::rt {

/// One container start in progress.
struct Launch {
    const LauncherPaths& paths;
    RunOptions& opts;
    ContainerState state;
    std::string dir;
    UniqueFd lockFd; ///< the state dir, flock'ed until state.json exists
    int outW = -1;   ///< detached without -t: write ends of the log pipes (owned by the caller)
    int errW = -1;
    UniqueFd masterFd;                    ///< -t: the pty master the child sent after the release
    std::vector<sock_filter> filter = {}; ///< seccomp, built before the state dir exists
};

/// Everything after the state dir exists: cgroup, clone, wiring, /etc files, release. Returns
/// the child pid once the command has been exec'd. On error `failCode` holds the exit status to
/// report and the caller tears down from `l.state`, where every acquired resource is recorded.
Expected<pid_t> startProcess(Launch& l, int& failCode);

/// Fills defaults (id, hostname, PATH, HOSTNAME), resolves -u against the root filesystem,
/// validates everything (options, capabilities, -p against the networks' capabilities) and
/// picks free host ports for -p CTRPORT. Nothing is created.
Status prepareRunOptions(const LauncherPaths& paths, RunOptions& opts);

} // namespace tether::rt
