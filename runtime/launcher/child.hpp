// The container side of `tether run`: what the cloned process does between release and exec,
// and the tiny init used with --init.
#pragma once

#include <linux/filter.h>
#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/launcher/rootfs.hpp"
#include "runtime/launcher/tty.hpp"

namespace tether::rt {

/// Everything the cloned process needs, computed by the launcher before clone().
struct ChildSpec {
    MountPlan mounts;
    std::string hostname; ///< empty: keep the UTS name (shared UTS namespace)
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::string workdir = "/";
    std::vector<int> caps;
    std::vector<Ulimit> ulimits;
    uid_t uid = 0;
    gid_t gid = 0;
    bool seccomp = true;
    std::vector<sock_filter> seccompFilter; ///< built by the launcher (seccompFilter())
    bool init = false;
    bool newNet = false; ///< a fresh network namespace: bring lo up
    int syncFd = -1;     ///< the child's end of the SOCK_SEQPACKET pair (CLOEXEC)
    int parentFd = -1;   ///< the launcher's end, closed first
    int joinNetFd = -1;  ///< --net container:ID / host handled by setns before mounting
    int joinIpcFd = -1;  ///< --ipc container:ID
    /// Join/set up the network, IPC and mount namespaces before waiting for the release (no
    /// user namespace, and the cgroup was entered by clone3 with nothing left to join).
    bool setupBeforeRelease = false;
    /// fds 0-2 (pty, /dev/null stdin, log pipes): applied first in finishAndExec (tty.cpp).
    StdioPlan stdio;
};

/// The sync protocol: the launcher sends one byte to release the child (with
/// setupBeforeRelease, the mounts are already done by then). If setup or exec fails
/// the child sends one message "<exit code byte><text>" ("exec /bin/nope: No such file or
/// directory") and exits with that code; on a successful exec the socket closes (CLOEXEC), so
/// the launcher reads EOF.
[[noreturn]] void childMain(const ChildSpec& spec);

/// The last steps shared by run and exec: capabilities and user, no_new_privs, chdir, every fd
/// >= 3 marked close-on-exec, seccomp, exec (PATH looked up in spec.env). Failures are reported
/// on spec.syncFd as childMain does.
[[noreturn]] void finishAndExec(const ChildSpec& spec);

/// Closes every fd >= 3 except those in `keep` (negative entries ignored): close_range over the
/// gaps. Runs in a new container process before any of its setup.
void closeFdsExcept(std::vector<int> keep);

/// The signals the launcher blocks and forwards while it supervises a process (SIGCHLD included).
sigset_t supervisedSignals();
/// Waits for `pid` (signals from supervisedSignals() must be blocked), forwarding signals to it;
/// a terminal's SIGINT/SIGQUIT already reached the process group and is not sent twice. Returns
/// the exit code, or 128+signal when the process was killed.
int superviseChild(pid_t pid);

} // namespace tether::rt
