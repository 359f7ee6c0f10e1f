#include "runtime/launcher/child.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/unique_fd.hpp"
#include "runtime/launcher/security.hpp"

namespace tether::rt {
namespace {

[[noreturn]] void report(int fd, int code, const std::string& msg) {
    std::string packet(1, static_cast<char>(code));
    packet += msg;
    (void)!::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL);
    ::_exit(code);
}

std::string envValue(const std::vector<std::string>& env, const std::string& key) {
    for (const auto& e : env)
        if (e.starts_with(key + "=")) return e.substr(key.size() + 1);
    return {};
}

/// execve with a PATH search in the container's environment (not the launcher's).
[[noreturn]] void execCommand(const ChildSpec& spec) {
    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string& cmd = spec.argv[0];
    int err = ENOENT;
    if (cmd.find('/') != std::string::npos) {
        ::execve(cmd.c_str(), argv.data(), envp.data());
        err = errno;
    } else {
        std::string path = envValue(spec.env, "PATH");
        size_t start = 0;
        bool sawEacces = false;
        while (start <= path.size()) {
            size_t end = path.find(':', start);
            std::string dir =
                path.substr(start, end == std::string::npos ? std::string::npos : end - start);
            std::string full = (dir.empty() ? "." : dir) + "/" + cmd;
            ::execve(full.c_str(), argv.data(), envp.data());
            if (errno == EACCES)
                sawEacces = true;
            else if (errno != ENOENT && errno != ENOTDIR) {
                err = errno;
                break;
            }
            if (end == std::string::npos) break;
            start = end + 1;
        }
        if (err == ENOENT && sawEacces) err = EACCES;
    }
    report(spec.syncFd, err == ENOENT ? 127 : 126, "exec " + cmd + ": " + std::strerror(err));
}

/// The init never execs, so its argv and environment are still the launcher's (host paths,
/// the caller's variables) and readable in /proc/1/cmdline and /proc/1/environ: overwrite both
/// areas in place (their bounds are fields 48-51 of /proc/self/stat) and empty `environ`.
void scrubArgsAndEnv() {
    char buf[2048];
    ssize_t n = -1;
    if (UniqueFd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC)); fd)
        n = ::read(fd.get(), buf, sizeof buf - 1);
    ::clearenv();
    if (n <= 0) return;
    buf[n] = 0;
    char* p = std::strrchr(buf, ')');
    if (!p) return;
    unsigned long v[52] = {};
    int field = 2;
    for (char* tok = std::strtok(p + 1, " "); tok && field < 51; tok = std::strtok(nullptr, " "))
        v[++field] = std::strtoul(tok, nullptr, 10);
    if (field < 51) return;
    unsigned long argStart = v[48], argEnd = v[49], envStart = v[50], envEnd = v[51];
    // NOLINTBEGIN(performance-no-int-to-ptr): /proc/self/stat gives our argv/env as addresses.
    if (envEnd > envStart) std::memset(reinterpret_cast<void*>(envStart), 0, envEnd - envStart);
    if (argEnd > argStart) {
        static const char name[] = "tether-init";
        size_t len = argEnd - argStart;
        std::memset(reinterpret_cast<void*>(argStart), 0, len);
        std::memcpy(reinterpret_cast<void*>(argStart), name, std::min(len - 1, sizeof name - 1));
    }
    // NOLINTEND(performance-no-int-to-ptr)
}

/// PID 1 with --init: reaps every child, forwards signals to the command, exits with its status.
/// It runs under the container's policy: credentials already applied, the seccomp filter loaded
/// here (the command inherits it), no fd but the sync socket, undumpable (so the container's
/// processes cannot ptrace it or read its /proc files), no launcher environment.
[[noreturn]] void runInit(const ChildSpec& spec) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, nullptr);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); // a uid change may have reset it
    scrubArgsAndEnv();
    if (spec.seccomp)
        if (auto st = loadSeccomp(spec.seccompFilter); !st)
            report(spec.syncFd, 125, st.error().msg);
    pid_t main = ::fork();
    if (main < 0) report(spec.syncFd, 125, std::string("fork init child: ") + std::strerror(errno));
    if (main == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execCommand(spec);
    }
    ::close(spec.syncFd); // raw: the launcher's socket end, inherited by this init process
    for (;;) {
        siginfo_t info{};
        if (sigwaitinfo(&all, &info) < 0) continue;
        if (info.si_signo != SIGCHLD) {
            ::kill(main, info.si_signo);
            continue;
        }
        int status = 0;
        pid_t p;
        while ((p = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (p != main) continue;
            ::_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
        }
    }
}

/// A new network namespace starts with lo down; containers expect 127.0.0.1 to work.
Status loopbackUp() {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) return failErrno("socket", errno);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ::ioctl(sock.get(), SIOCGIFFLAGS, &ifr);
    if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        rc = ::ioctl(sock.get(), SIOCSIFFLAGS, &ifr);
    }
    if (rc != 0) return failErrno("set lo up", errno);
    return {};
}

} // namespace

void closeFdsExcept(std::vector<int> keep) {
    std::erase_if(keep, [](int fd) { return fd < 3; });
    std::sort(keep.begin(), keep.end());
    unsigned from = 3;
    for (int fd : keep) {
        if (static_cast<unsigned>(fd) > from)
            ::syscall(SYS_close_range, from, static_cast<unsigned>(fd) - 1, 0U);
        from = static_cast<unsigned>(fd) + 1;
    }
    ::syscall(SYS_close_range, from, ~0U, 0U);
}

sigset_t supervisedSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT})
        sigaddset(&set, s);
    return set;
}

int superviseChild(pid_t pid) {
    sigset_t set = supervisedSignals();
    for (;;) {
        siginfo_t info{};
        if (sigwaitinfo(&set, &info) < 0) continue;
        if (info.si_signo == SIGCHLD) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid)
                return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
            continue;
        }
        bool fromTty =
            info.si_code == SI_KERNEL && (info.si_signo == SIGINT || info.si_signo == SIGQUIT);
        if (!fromTty) ::kill(pid, info.si_signo);
    }
}

namespace {

/// Network, IPC and mount setup: the part of the container's setup that only touches its own
/// namespaces.
void setupNamespaces(const ChildSpec& spec) {
    if (spec.joinNetFd >= 0 && ::setns(spec.joinNetFd, CLONE_NEWNET) != 0)
        report(spec.syncFd, 125, std::string("join network namespace: ") + std::strerror(errno));
    if (spec.joinIpcFd >= 0 && ::setns(spec.joinIpcFd, CLONE_NEWIPC) != 0)
        report(spec.syncFd, 125, std::string("join ipc namespace: ") + std::strerror(errno));
    // Namespace fds of the host or another container: gone before any mount of the container.
    // Raw: they are the launcher's UniqueFds, inherited; this closes the child's copies.
    for (int fd : {spec.joinNetFd, spec.joinIpcFd})
        if (fd >= 0) ::close(fd);
    if (spec.newNet)
        if (auto st = loopbackUp(); !st) report(spec.syncFd, 125, st.error().msg);
    if (auto st = setupMounts(spec.mounts); !st) report(spec.syncFd, 125, st.error().msg);
}

} // namespace

void childMain(const ChildSpec& spec) {
    // Die with the launcher. (Should it be gone already, the recv below reads EOF: getppid()
    // cannot tell, it is 0 in a new PID namespace.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // Nothing of the launcher's survives into the container (but the log pipes that become its
    // stdout/stderr, closed once dup'ed): not its fds (the state dir lock,
    // the host cgroup dir, the caller's pipes: any directory fd is a way out of the root), and
    // until exec it is not dumpable (no ptrace, /proc/<pid> owned by root and unreadable).
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    closeFdsExcept(
        {spec.syncFd, spec.joinNetFd, spec.joinIpcFd, spec.stdio.outFd, spec.stdio.errFd});
    // Without a user namespace nothing in the namespace setup depends on the launcher's work
    // after clone (cgroup placement by CLONE_INTO_CGROUP, netns pin, CNI ADD): it runs while
    // the launcher wires the network, and only the rest waits for the release.
    if (spec.setupBeforeRelease) setupNamespaces(spec);
    char go = 0;
    ssize_t n;
    do
        n = ::recv(spec.syncFd, &go, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n != 1 || go != 'G') ::_exit(125);
    for (int sig = 1; sig < NSIG; ++sig)
        ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);

    if (!spec.setupBeforeRelease) {
        // In a new user namespace the process still carries the host's ids until it switches
        // to the mapped root (the launcher writes the maps before the release); mounts and
        // files must be made as that root.
        if (spec.mounts.userns && (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0))
            report(spec.syncFd, 125,
                   std::string("become root in the user namespace: ") + std::strerror(errno));
        setupNamespaces(spec);
    }
    for (const auto& u : spec.ulimits) {
        rlimit rl{u.soft, u.hard};
        if (::setrlimit(u.resource, &rl) != 0)
            report(spec.syncFd, 125,
                   "setrlimit " + std::to_string(u.resource) + ": " + std::strerror(errno));
    }
    if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
        report(spec.syncFd, 125, "sethostname " + spec.hostname + ": " + std::strerror(errno));
    finishAndExec(spec);
}

void finishAndExec(const ChildSpec& spec) {
    // launcher-ux: terminal / stdin / log pipes (runtime/launcher/tty.cpp)
    if (auto st = applyStdio(spec.stdio, spec.syncFd); !st)
        report(spec.syncFd, 125, st.error().msg);
    if (auto st = applyCredentials(spec.caps, spec.uid, spec.gid); !st)
        report(spec.syncFd, 125, st.error().msg);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::chdir(spec.workdir.c_str()) != 0)
        report(spec.syncFd, 125, "chdir " + spec.workdir + ": " + std::strerror(errno));
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
        report(spec.syncFd, 125, std::string("close_range: ") + std::strerror(errno));
    if (spec.init) runInit(spec);
    if (spec.seccomp)
        if (auto st = loadSeccomp(spec.seccompFilter); !st)
            report(spec.syncFd, 125, st.error().msg);
    execCommand(spec);
}

} // namespace tether::rt
