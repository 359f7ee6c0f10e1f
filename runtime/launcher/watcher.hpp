// The container dies with its supervisor, whatever its PID 1 did with its credentials.
//
// PID 1 is started with PR_SET_PDEATHSIG(SIGKILL), but the kernel clears a process's parent-death
// signal whenever its credentials change: a PID 1 that drops privileges after exec (gosu, su-exec,
// setpriv, an init that setuid()s) would outlive a SIGKILLed supervisor and run unsupervised, its
// exit never recorded. The watcher is a tiny process forked from the supervisor that never
// changes credentials: its own parent-death signal fires when the supervisor dies for any
// reason, and it then kills the container's whole cgroup (cgroup.kill on v2/hybrid, freeze +
// SIGKILL + thaw on v1) — every process, in whatever namespace. When the container ends
// normally the supervisor stops the watcher first (so a later `start` of the same id, which
// reuses the cgroup path, is never hit). The rest of the teardown (network, state) is then
// `tether gc`'s, as for any supervisor that died.
#pragma once

#include <sys/types.h>

#include "runtime/launcher/cgroup.hpp"

namespace tether::rt {

/// Forks the watcher of `cg` (a child of the calling supervisor: no fd, own process group, all
/// signals blocked, named "tether-watch"). Returns its pid, or -1 when fork failed (the
/// container then only has PID 1's own parent-death signal).
pid_t startCgroupWatcher(const Cgroup& cg);
/// SIGKILLs and reaps the watcher (the container has ended; nothing to kill). -1 is a no-op.
void stopCgroupWatcher(pid_t watcher);

} // namespace tether::rt
