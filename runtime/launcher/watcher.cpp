#include "runtime/launcher/watcher.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.hpp"
#include "runtime/launcher/child.hpp"

namespace tether::rt {

namespace {

/// After `--pid container:X` the supervisor's children are created in X's PID namespace
/// (setns before clone). The watcher must not be: the container's processes would see it, and
/// it would not see its parent. setns back to the supervisor's own (active) namespace.
void childrenInOwnPidNs() {
    char own[64] = {}, children[64] = {};
    if (::readlink("/proc/self/ns/pid", own, sizeof own - 1) < 0 ||
        ::readlink("/proc/self/ns/pid_for_children", children, sizeof children - 1) < 0 ||
        std::strcmp(own, children) == 0)
        return;
    if (UniqueFd fd(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)); fd)
        (void)::setns(fd.get(), CLONE_NEWPID);
}

} // namespace

pid_t startCgroupWatcher(const Cgroup& cg) {
    pid_t supervisor = ::getpid();
    childrenInOwnPidNs();
    pid_t w = ::fork();
    if (w != 0) return w;
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, nullptr);
    // SIGUSR1 (not SIGKILL): the watcher has work to do when the supervisor is gone. Blocked, it
    // stays pending for sigwaitinfo below; so do terminal signals (own process group anyway).
    ::prctl(PR_SET_PDEATHSIG, SIGUSR1);
    ::setpgid(0, 0);
    ::prctl(PR_SET_NAME, "tether-watch", 0, 0, 0);
    closeFdsExcept({});
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) // no pipe of the caller stays open through the watcher
        for (int fd = 0; fd < 3; ++fd)
            ::dup2(null, fd);
    if (::getppid() == supervisor) { // else it died before the parent-death signal was armed
        sigset_t wake;
        sigemptyset(&wake);
        sigaddset(&wake, SIGUSR1);
        siginfo_t info{};
        while (::sigwaitinfo(&wake, &info) < 0) {
        }
    }
    (void)cg.killAll();
    ::_exit(0);
}

void stopCgroupWatcher(pid_t watcher) {
    if (watcher <= 0) return;
    ::kill(watcher, SIGKILL);
    while (::waitpid(watcher, nullptr, 0) < 0 && errno == EINTR) {
    }
}

} // namespace tether::rt
