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
    if (l.masterFd < 0 && outR < 0) return superviseChild(pid); // foreground without -t
    std::optional<LogWriter> log;
    if (o.detach) log.emplace(l.dir + "/container.log", o.logMaxBytes);
    RelayPlan plan;
    plan.master = l.masterFd;
    plan.outPipe = outR;
    plan.errPipe = errR;
    plan.forwardStdin = o.interactive && !o.detach;
    plan.log = log ? &*log : nullptr;
    RawTerminal raw(o.tty && o.interactive && !o.detach);
    int code = superviseWithRelay(pid, plan);
    if (l.masterFd >= 0) ::close(l.masterFd);
    return code;
}

/// Creates (or, for `start`, reuses) the state dir and takes its lock.
Status openStateDir(Launch& l, bool reuse) {
    if (!reuse) TRY(createStateDir(l.paths, l.opts.id));
    l.lockFd = Fd(::open(l.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (l.lockFd.fd >= 0) ::flock(l.lockFd.fd, LOCK_EX);
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
    Launch l{paths, opts, {}, paths.stateDir(opts.id), Fd()};
    l.filter = std::move(filter);
    TRY(openStateDir(l, reuse));
    l.state = {{"id", opts.id},
               {"status", "creating"},
               {"command", opts.command},
               {"created", std::time(nullptr)},
               {"detached", opts.detach},
               {"seccomp", opts.seccomp},
               {"userns", opts.userns},
               {"hostname", opts.hostname},
               {"ports", opts.portMappings},
               {"config", runOptionsToJson(opts)}};
    if (!opts.seccompProfile.empty()) // for exec; the built-in profile is not copied
        l.state["seccompProfile"] = {{"source", opts.seccompSource}, {"json", opts.seccompProfile}};
    if (reuse)
        if (auto old = readState(paths, opts.id)) l.state["created"] = old->value("created", 0);

    int notify[2] = {-1, -1};
    Fd outR, errR, outW, errW;
    if (opts.detach) {
        if (::pipe2(notify, O_CLOEXEC) != 0) return failErrno("pipe", errno);
        pid_t sup = ::fork();
        if (sup < 0) return failErrno("fork supervisor", errno);
        if (sup > 0) {
            l.lockFd = Fd(); // the supervisor's copy keeps the lock
            ::close(notify[1]);
            char buf[4096];
            ssize_t n = ::read(notify[0], buf, sizeof buf);
            ::close(notify[0]);
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
        ::close(notify[0]);
        ::setsid();
        int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        int log = ::open((l.dir + "/supervisor.log").c_str(),
                         O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        ::dup2(devnull, 0);
        ::dup2(log, 1);
        ::dup2(log, 2);
        ::close(devnull);
        ::close(log);
        if (!opts.tty) {
            int p1[2], p2[2];
            if (::pipe2(p1, O_CLOEXEC) == 0 && ::pipe2(p2, O_CLOEXEC) == 0) {
                outR = Fd(p1[0]), outW = Fd(p1[1]), errR = Fd(p2[0]), errW = Fd(p2[1]);
                l.outW = outW.fd;
                l.errW = errW.fd;
            }
        }
    }
    l.state["supervisorPid"] = ::getpid();
    l.state["supervisorStartTime"] = processStartTime(::getpid());

    sigset_t set = supervisedSignals(), old;
    sigprocmask(SIG_BLOCK, &set, &old);
    auto report = [&](int code, const std::string& text) {
        if (!opts.detach) {
            if (code != 0) std::fprintf(stderr, "tether: %s\n", text.c_str());
            return;
        }
        std::string msg(1, static_cast<char>(code));
        msg += text;
        (void)!::write(notify[1], msg.data(), msg.size());
        ::close(notify[1]);
    };
    int failCode = 125;
    auto started = startProcess(l, failCode);
    outW = Fd();
    errW = Fd();
    if (!started) {
        l.lockFd = Fd(); // teardown takes the lock through its own open file
        (void)teardownContainer(paths, l.state, !reuse || opts.rm);
        report(failCode, started.error().text());
        if (opts.detach) ::_exit(failCode);
        return failCode;
    }
    report(0, opts.id);
    pid_t watcher = startCgroupWatcher(Cgroup::fromJson(l.state["cgroup"]));
    int code = supervise(l, *started, outR.fd, errR.fd);
    stopCgroupWatcher(watcher);
    if (code == 128 + SIGSYS && opts.seccomp)
        std::fprintf(stderr,
                     "tether: container process killed by its seccomp filter (SIGSYS): a syscall "
                     "the profile (%s) kills, or a foreign architecture; the kernel's audit log "
                     "(type=1326) names the syscall\n",
                     opts.seccompSource.c_str());
    Cgroup cg = Cgroup::fromJson(l.state["cgroup"]);
    bool oom = cg.oomKilled();
    if (oom) std::fprintf(stderr, "tether: container killed: out of memory\n");
    l.state["exitCode"] = code;
    l.state["oomKilled"] = oom;
    l.state["finishedAt"] = std::time(nullptr);
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
    nlohmann::json st = {{"id", opts.id},
                         {"status", "created"},
                         {"command", opts.command},
                         {"created", std::time(nullptr)},
                         {"detached", true},
                         {"hostname", opts.hostname},
                         {"ports", opts.portMappings},
                         {"config", runOptionsToJson(opts)}};
    if (auto w = writeState(paths, opts.id, st); !w) {
        (void)removeTree(dir);
        return std::unexpected(w.error());
    }
    std::printf("%s\n", opts.id.c_str());
    return 0;
}

Expected<int> rerunContainer(const LauncherPaths& paths, const std::string& id) {
    auto st = TRY(readState(paths, id));
    std::string status = liveStatus(st);
    if (status == "running" || status == "paused") return 0; // already started: as podman
    if (status != "created" && status != "exited" && status != "dead")
        return fail(Code::Conflict, "container " + id + " is " + status);
    if (!st.contains("config"))
        return fail(Code::InvalidConfig, "container " + id + " has no recorded options");
    if (status == "dead") TRY(teardownContainer(paths, st, false));
    RunOptions opts = runOptionsFromJson(st["config"]);
    opts.id = id;
    opts.detach = true;
    opts.env.erase(std::remove_if(opts.env.begin(), opts.env.end(),
                                  [](const std::string& e) { return e.starts_with("HOSTNAME="); }),
                   opts.env.end());
    TRY(prepareRunOptions(paths, opts));
    return launch(paths, std::move(opts), true);
}

} // namespace tether::rt
