// `run`, `create` and `start`: defaults and validation, the state dir, the detached supervisor
// and the I/O while a container runs (terminal relay, log pipes).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <optional>

#include "libcni/net_ops.hpp"
#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/child.hpp"
#include "runtime/launcher/container.hpp"
#include "runtime/launcher/container_internal.hpp"
#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/logs.hpp"
#include "runtime/launcher/rootfs.hpp"
#include "runtime/launcher/seccomp_profile.hpp"
#include "runtime/launcher/security.hpp"
#include "runtime/launcher/state.hpp"
#include "runtime/launcher/tty.hpp"
#include "runtime/launcher/watcher.hpp"

namespace tether::rt {
namespace {

constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// -p needs a network whose plugins declare the portMappings capability.
Status checkPortCapability(const RunOptions& o) {
    if (o.portMappings.empty() || o.net.kind != NsMode::Private) return {};
    NetPaths np = NetPaths::fromEnv();
    auto names = o.networks.empty() ? std::vector<std::string>{"default"} : o.networks;
    for (const auto& n : names) {
        auto list = TRY(resolveNetwork(np, n));
        for (const auto& p : list.plugins)
            if (p.contains("capabilities") && p["capabilities"].is_object() &&
                p["capabilities"].value("portMappings", false))
                return {};
    }
    return fail(Code::InvalidConfig, "-p: no plugin of network " + names[0] +
                                         (names.size() > 1 ? " (or the others)" : "") +
                                         " has the portMappings capability (add portmap)");
}

/// Runs the started container until it exits, moving its I/O. Returns the exit code.
int supervise(Launch& l, pid_t pid, int outR, int errR) {
    RunOptions& o = l.opts;
    if (!l.masterFd && outR < 0) return superviseChild(pid); // foreground without -t
    std::optional<LogWriter> log;
    if (o.detach) log.emplace(l.dir + "/container.log", o.logMaxBytes);
    RelayPlan plan;
    plan.master = l.masterFd.get();
    plan.outPipe = outR;
    plan.errPipe = errR;
    plan.forwardStdin = o.interactive && !o.detach;
    plan.log = log ? &*log : nullptr;
    RawTerminal raw(o.tty && o.interactive && !o.detach);
    int code = superviseWithRelay(pid, plan);
    l.masterFd.reset();
    return code;
}

/// Creates (or, for `start`, reuses) the state dir and takes its lock.
Status openStateDir(Launch& l, bool reuse) {
    if (!reuse) TRY(createStateDir(l.paths, l.opts.id));
    l.lockFd.reset(::open(l.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (l.lockFd) ::flock(l.lockFd.get(), LOCK_EX);
    return {};
}

Expected<int> launch(const LauncherPaths& paths, RunOptions opts, bool reuse) {
    auto caps = TRY(resolveCapabilities(opts.capAdd, opts.capDrop));
    // Compiled (or read from the cache) now: a bad profile fails before anything exists.
    std::vector<sock_filter> filter;
    if (opts.seccomp)
        filter = TRY(seccompFilterFor(opts.seccompProfile.empty() ? defaultSeccompProfile()
                                                                  : opts.seccompProfile,
                                      caps, paths.libRoot + "/seccomp", opts.seccompSource));
    Launch l{paths, opts, {}, paths.stateDir(opts.id), UniqueFd()};
    l.filter = std::move(filter);
    TRY(openStateDir(l, reuse));
    ContainerState& s = l.state;
    s.id = opts.id;
    s.status = ContainerStatus::Creating;
    s.command = opts.command;
    s.created = std::time(nullptr);
    s.detached = opts.detach;
    s.seccomp = opts.seccomp;
    s.userns = opts.userns;
    s.hostname = opts.hostname;
    s.ports = opts.portMappings;
    s.config = opts;
    if (!opts.seccompProfile.empty()) // for exec; the built-in profile is not copied
        s.seccompProfile = SeccompRecord{opts.seccompSource, opts.seccompProfile};
    if (reuse) // start/restart: the same container, its first creation time and newer keys
        if (auto old = readState(paths, opts.id)) {
            s.created = old->created;
            s.unknownKeys = old->unknownKeys;
        }

    UniqueFd notifyR, notifyW; // the supervisor reports the start (detached)
    UniqueFd outR, errR, outW, errW;
    if (opts.detach) {
        int notify[2];
        if (::pipe2(notify, O_CLOEXEC) != 0) return failErrno("pipe", errno);
        notifyR.reset(notify[0]);
        notifyW.reset(notify[1]);
        pid_t sup = ::fork();
        if (sup < 0) return failErrno("fork supervisor", errno);
        if (sup > 0) {
            l.lockFd.reset(); // the supervisor's copy keeps the lock
            notifyW.reset();
            char buf[4096];
            ssize_t n = ::read(notifyR.get(), buf, sizeof buf);
            notifyR.reset();
            if (n <= 0) return fail(Code::Internal, "container supervisor died during setup");
            int code = static_cast<unsigned char>(buf[0]);
            std::string text(buf + 1, static_cast<size_t>(n - 1));
            if (code == 0) {
                if (!reuse) std::printf("%s\n", text.c_str());
                return 0;
            }
            std::fprintf(stderr, "tether: %s\n", text.c_str());
            return code;
        }
        notifyR.reset();
        ::setsid();
        {
            UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
            UniqueFd log(::open((l.dir + "/supervisor.log").c_str(),
                                O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
            ::dup2(devnull.get(), 0);
            ::dup2(log.get(), 1);
            ::dup2(log.get(), 2);
        }
        if (!opts.tty) {
            int p1[2], p2[2];
            if (::pipe2(p1, O_CLOEXEC) == 0) {
                outR.reset(p1[0]);
                outW.reset(p1[1]);
            }
            if (outR && ::pipe2(p2, O_CLOEXEC) == 0) {
                errR.reset(p2[0]);
                errW.reset(p2[1]);
                l.outW = outW.get();
                l.errW = errW.get();
            } else {
                outR.reset();
                outW.reset();
            }
        }
    }
    s.supervisor = ProcessRef{::getpid(), processStartTime(::getpid())};

    sigset_t set = supervisedSignals(), old;
    sigprocmask(SIG_BLOCK, &set, &old);
    auto report = [&](int code, const std::string& text) {
        if (!opts.detach) {
            if (code != 0) std::fprintf(stderr, "tether: %s\n", text.c_str());
            return;
        }
        std::string msg(1, static_cast<char>(code));
        msg += text;
        (void)!::write(notifyW.get(), msg.data(), msg.size());
        notifyW.reset();
    };
    int failCode = 125;
    auto started = startProcess(l, failCode);
    outW.reset();
    errW.reset();
    if (!started) {
        l.lockFd.reset(); // teardown takes the lock through its own open file
        (void)teardownContainer(paths, l.state, !reuse || opts.rm);
        report(failCode, started.error().text());
        if (opts.detach) ::_exit(failCode);
        return failCode;
    }
    report(0, opts.id);
    // startProcess records the cgroup before it clones.
    pid_t watcher = startCgroupWatcher(*s.cgroup);
    int code = supervise(l, *started, outR.get(), errR.get());
    stopCgroupWatcher(watcher);
    if (code == 128 + SIGSYS && opts.seccomp)
        std::fprintf(stderr,
                     "tether: container process killed by its seccomp filter (SIGSYS): a syscall "
                     "the profile (%s) kills, or a foreign architecture; the kernel's audit log "
                     "(type=1326) names the syscall\n",
                     opts.seccompSource.c_str());
    bool oom = s.cgroup->oomKilled();
    if (oom) std::fprintf(stderr, "tether: container killed: out of memory\n");
    s.exitCode = code;
    s.oomKilled = oom;
    s.finishedAt = std::time(nullptr);
    auto st = teardownContainer(paths, l.state, !opts.detach || opts.rm);
    if (!st)
        std::fprintf(stderr, "tether: teardown of %s: %s\n", opts.id.c_str(),
                     st.error().text().c_str());
    sigprocmask(SIG_SETMASK, &old, nullptr);
    if (opts.detach) ::_exit(code);
    return code;
}

} // namespace

Status prepareRunOptions(const LauncherPaths& paths, RunOptions& opts) {
    if (opts.id.empty()) opts.id = newContainerId();
    if (opts.hostname.empty() && opts.net.kind != NsMode::Host)
        opts.hostname = opts.id.substr(0, 12);
    bool hasPath = false;
    for (const auto& e : opts.env)
        hasPath |= e.starts_with("PATH=");
    if (!hasPath) opts.env.insert(opts.env.begin(), kDefaultPath);
    bool hasHostname = false;
    for (const auto& e : opts.env)
        hasHostname |= e.starts_with("HOSTNAME=");
    if (!hasHostname) opts.env.push_back("HOSTNAME=" + opts.hostname);
    TRY(validateRunOptions(opts));
    TRY(resolveCapabilities(opts.capAdd, opts.capDrop));
    if (!opts.user.empty()) {
        std::string root = !opts.rootfs.empty()  ? opts.rootfs
                           : !opts.image.empty() ? opts.image
                                                 : TRY(ensureDefaultRootfs(paths));
        std::tie(opts.uid, opts.gid) = TRY(resolveUser(opts.user, root));
    }
    TRY(checkPortCapability(opts));
    TRY(assignHostPorts(opts.portMappings));
    return {};
}

Expected<int> runContainer(const LauncherPaths& paths, RunOptions opts) {
    TRY(prepareRunOptions(paths, opts));
    return launch(paths, std::move(opts), false);
}

Expected<int> createContainer(const LauncherPaths& paths, RunOptions opts) {
    // Ports are picked again at start: keep "-p CTRPORT" as asked.
    nlohmann::json asked = opts.portMappings;
    TRY(prepareRunOptions(paths, opts));
    opts.portMappings = asked;
    TRY(createStateDir(paths, opts.id));
    std::string dir = paths.stateDir(opts.id);
    opts.detach = true;
    ContainerState st;
    st.id = opts.id;
    st.status = ContainerStatus::Created;
    st.command = opts.command;
    st.created = std::time(nullptr);
    st.detached = true;
    st.hostname = opts.hostname;
    st.ports = opts.portMappings;
    st.config = opts;
    if (auto w = writeState(paths, st); !w) {
        (void)removeTree(dir);
        return std::unexpected(w.error());
    }
    std::printf("%s\n", opts.id.c_str());
    return 0;
}

Expected<int> rerunContainer(const LauncherPaths& paths, const std::string& id) {
    auto st = TRY(readState(paths, id));
    ContainerStatus status = liveStatus(st);
    if (isUp(status)) return 0; // already started: as podman
    if (status != ContainerStatus::Created && status != ContainerStatus::Exited &&
        status != ContainerStatus::Dead)
        return fail(Code::Conflict, "container " + id + " is " + statusName(status));
    if (!st.config)
        return fail(Code::InvalidConfig, "container " + id + " has no recorded options");
    if (status == ContainerStatus::Dead) TRY(teardownContainer(paths, st, false));
    RunOptions opts = *st.config;
    opts.id = id;
    opts.detach = true;
    opts.env.erase(std::remove_if(opts.env.begin(), opts.env.end(),
                                  [](const std::string& e) { return e.starts_with("HOSTNAME="); }),
                   opts.env.end());
    TRY(prepareRunOptions(paths, opts));
    return launch(paths, std::move(opts), true);
}

} // namespace tether::rt
