#include "runtime/launcher/lifecycle.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "libnet/netns.hpp"
#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/child.hpp"
#include "runtime/launcher/container.hpp"
#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/seccomp_profile.hpp"
#include "runtime/launcher/security.hpp"
#include "runtime/launcher/state.hpp"
#include "runtime/launcher/tty.hpp"

namespace tether::rt {
namespace {

Expected<nlohmann::json> runningState(const LauncherPaths& paths, const std::string& id) {
    auto st = TRY(readState(paths, id));
    std::string status = liveStatus(st);
    if (status != "running" && status != "paused")
        return fail(Code::UnknownContainer, "container " + id + " is not running (" + status + ")");
    return st;
}

bool supervisorAlive(const nlohmann::json& st) {
    return processAlive(st.value("supervisorPid", 0), st.value("supervisorStartTime", uint64_t{0}));
}

} // namespace

std::vector<nlohmann::json> listContainerStates(const LauncherPaths& paths) {
    std::vector<nlohmann::json> out;
    for (const auto& id : listContainers(paths))
        if (auto st = inspectContainer(paths, id)) out.push_back(*st);
    return out;
}

Expected<nlohmann::json> inspectContainer(const LauncherPaths& paths, const std::string& id) {
    auto st = TRY(readState(paths, id));
    st["status"] = liveStatus(st);
    return st;
}

Expected<int> execInContainer(const LauncherPaths& paths, const std::string& id,
                              const ExecOptions& x) {
    const auto& argv = x.argv;
    const auto& env = x.env;
    if (argv.empty())
        return fail(Code::InvalidConfig, "no command given (tether exec ID -- CMD...)");
    auto st = TRY(runningState(paths, id));
    // Joining a frozen cgroup freezes the helper too: it would hang (SIGTERM included) until
    // the container is thawed. podman refuses the same way.
    if (liveStatus(st) == "paused")
        return fail(Code::Conflict,
                    "container " + id + " is paused, unpause it first (tether unpause " + id + ")");
    pid_t target = st.value("pid", 0);
    std::vector<std::pair<int, int>> nsFds; // fd, type; user first, mnt last
    std::vector<std::pair<const char*, int>> kinds = {
        {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET},
        {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS}};
    if (st.value("userns", false)) kinds.insert(kinds.begin(), {"user", CLONE_NEWUSER});
    auto closeAll = [&] {
        for (auto [fd, t] : nsFds)
            ::close(fd);
    };
    for (auto [name, type] : kinds) {
        std::string path = "/proc/" + std::to_string(target) + "/ns/" + name;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            closeAll();
            return failErrno("open " + path, err);
        }
        nsFds.push_back({fd, type});
    }
    ChildSpec spec;
    spec.argv = argv;
    spec.env = env;
    bool hasPath = false;
    for (const auto& e : env)
        hasPath |= e.starts_with("PATH=");
    if (!hasPath)
        spec.env.insert(spec.env.begin(),
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    spec.workdir = x.workdir;
    spec.caps = st.value("caps", std::vector<int>{});
    auto user = st.value("user", nlohmann::json::object());
    spec.uid = user.value("uid", 0u);
    spec.gid = user.value("gid", 0u);
    if (!x.user.empty()) {
        auto ids = resolveUser(x.user, "/proc/" + std::to_string(target) + "/root");
        if (!ids) {
            closeAll();
            return std::unexpected(ids.error());
        }
        std::tie(spec.uid, spec.gid) = *ids;
    }
    spec.stdio.tty = x.tty;
    spec.stdio.nullStdin = !x.interactive;
    spec.stdio.uid = spec.uid;
    spec.stdio.gid = spec.gid;
    spec.stdio.size = callerWindowSize();
    spec.seccomp = st.value("seccomp", true);
    if (spec.seccomp) {
        auto custom = st.value("seccompProfile", nlohmann::json::object());
        std::string text = custom.value("json", "");
        spec.seccompFilter =
            TRY(seccompFilterFor(text.empty() ? defaultSeccompProfile() : text, spec.caps,
                                 paths.libRoot + "/seccomp", custom.value("source", "default")));
    }
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
        closeAll();
        return failErrno("socketpair", errno);
    }
    spec.syncFd = sp[1];
    Cgroup cg = Cgroup::fromJson(st.value("cgroup", nlohmann::json::object()));
    sigset_t set = supervisedSignals(), old;
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t helper = ::fork();
    if (helper == 0) {
        ::close(sp[0]);
        auto die = [&](const std::string& msg) {
            std::string packet(1, static_cast<char>(125));
            packet += msg;
            (void)!::send(spec.syncFd, packet.data(), packet.size(), MSG_NOSIGNAL);
            ::_exit(125);
        };
        // As for run: nothing of the caller's but stdio reaches the container, and the helper
        // cannot be ptraced by the container's processes once it is in their namespaces.
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        std::vector<int> keep = {spec.syncFd};
        for (auto [fd, type] : nsFds)
            keep.push_back(fd);
        closeFdsExcept(keep);
        if (auto r = cg.addPid(::getpid()); !r) die(r.error().msg);
        for (auto [fd, type] : nsFds)
            if (::setns(fd, type) != 0) die(errnoError("setns into container " + id, errno).msg);
        for (auto [fd, type] : nsFds)
            ::close(fd);
        pid_t inner = ::fork();
        if (inner < 0) die(errnoError("fork", errno).msg);
        if (inner == 0) {
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            finishAndExec(spec);
        }
        ::close(spec.syncFd);
        ::_exit(superviseChild(inner));
    }
    ::close(sp[1]);
    closeAll();
    if (helper < 0) {
        ::close(sp[0]);
        sigprocmask(SIG_SETMASK, &old, nullptr);
        return failErrno("fork", errno);
    }
    SyncOutcome sync = readSync(sp[0]); // the pty master (-t), then EOF or an error
    ::close(sp[0]);
    int code;
    {
        RawTerminal raw(x.tty && x.interactive);
        RelayPlan plan;
        plan.master = sync.masterFd;
        plan.forwardStdin = x.interactive;
        code = sync.masterFd >= 0 ? superviseWithRelay(helper, plan) : superviseChild(helper);
    }
    if (sync.masterFd >= 0) ::close(sync.masterFd);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    if (sync.code != 0) {
        std::fprintf(stderr, "tether: %s\n", sync.message.c_str());
        return sync.code;
    }
    return code;
}

Status killContainer(const LauncherPaths& paths, const std::string& id, int sig) {
    auto st = TRY(runningState(paths, id));
    if (::kill(st.value("pid", 0), sig) != 0) return failErrno("kill container " + id, errno);
    return {};
}

Status pauseContainer(const LauncherPaths& paths, const std::string& id, bool pause) {
    auto st = TRY(runningState(paths, id));
    return Cgroup::fromJson(st.value("cgroup", nlohmann::json::object())).setFrozen(pause);
}

Status removeContainer(const LauncherPaths& paths, const std::string& id, bool force) {
    auto st = TRY(readState(paths, id));
    std::string status = liveStatus(st);
    if ((status == "running" || status == "paused") && !force)
        return fail(Code::Conflict, "container " + id + " is " + status + " (use rm -f)");
    if (st.contains("cgroup")) {
        Cgroup cg = Cgroup::fromJson(st["cgroup"]);
        if (cg.frozen()) (void)cg.setFrozen(false);
        (void)cg.killAll();
    }
    for (int i = 0; i < 500 && supervisorAlive(st) && st.value("supervisorPid", 0) != ::getpid();
         ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (auto again = readState(paths, id))
        st = *again;
    else if (again.error().code == Code::UnknownContainer)
        return {};
    return teardownContainer(paths, st, true);
}

std::vector<std::string> gcContainers(const LauncherPaths& paths) {
    std::vector<std::string> actions = removeAbandonedStateDirs(paths);
    std::vector<std::string> known = listContainers(paths);
    for (const auto& id : known) {
        auto st = readState(paths, id);
        if (!st) {
            // A dir without state.json: `run` holds its lock until state.json is written, so a
            // free lock means the launcher died first. Its cgroup and netns pin (if any) have
            // no state dir then, and go in the passes below.
            // (Also not before it is a few seconds old: `run` takes the lock right after mkdir.)
            // Only a dir `run` marked: never the fixture registry or anything else in there.
            if (st.error().code != Code::UnknownContainer) continue;
            if (!isStateDir(paths.stateDir(id))) continue;
            int fd = ::open(paths.stateDir(id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) continue;
            struct stat dirSt {};
            bool young = ::fstat(fd, &dirSt) != 0 || dirSt.st_ctime + 5 > std::time(nullptr);
            if (!young && ::flock(fd, LOCK_EX | LOCK_NB) == 0 && !readState(paths, id)) {
                auto r = removeTree(paths.stateDir(id));
                actions.push_back("removed container " + id + " (no state)" +
                                  (r ? "" : " (" + r.error().text() + ")"));
            }
            ::close(fd);
            continue;
        }
        bool dead = !supervisorAlive(*st) &&
                    !processAlive(st->value("pid", 0), st->value("pidStartTime", uint64_t{0}));
        if (!dead) continue;
        if (st->value("detached", false) && st->value("status", "") == "exited") continue;
        auto r = teardownContainer(paths, *st, true);
        actions.push_back("removed container " + id + (r ? "" : " (" + r.error().text() + ")"));
    }
    known = listContainers(paths);
    auto isKnown = [&](const std::string& id) {
        return std::find(known.begin(), known.end(), id) != known.end();
    };
    for (const auto& [id, cg] : Cgroup::listUnder(paths.stateRoot, paths.cgroupParent)) {
        if (isKnown(id)) continue;
        (void)cg.killAll();
        auto r = cg.remove();
        actions.push_back("removed cgroup " + id + (r ? "" : " (" + r.error().text() + ")"));
    }
    if (DIR* d = ::opendir(paths.netnsDir.c_str())) {
        std::vector<std::string> pins;
        while (dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n.starts_with("tether-") && !isKnown(n.substr(7))) pins.push_back(n);
        }
        ::closedir(d);
        for (const auto& n : pins) {
            auto r = net::removePinnedNetns(paths.netnsDir + "/" + n);
            actions.push_back("removed netns " + n + (r ? "" : " (" + r.error().text() + ")"));
        }
    }
    return actions;
}

} // namespace tether::rt
