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

Expected<ContainerState> runningState(const LauncherPaths& paths, const std::string& id) {
    auto st = TRY(readState(paths, id));
    ContainerStatus status = liveStatus(st);
    if (!isUp(status))
        return fail(Code::UnknownContainer,
                    "container " + id + " is not running (" + statusName(status) + ")");
    st.status = status;
    return st;
}

} // namespace

std::vector<ContainerState> listContainerStates(const LauncherPaths& paths,
                                                std::vector<Error>* unreadable) {
    std::vector<ContainerState> out;
    for (const auto& id : listContainers(paths)) {
        auto st = inspectContainer(paths, id);
        if (st)
            out.push_back(std::move(*st));
        else if (unreadable && st.error().code != Code::UnknownContainer)
            unreadable->push_back(st.error());
    }
    return out;
}

Expected<ContainerState> inspectContainer(const LauncherPaths& paths, const std::string& id) {
    auto st = TRY(readState(paths, id));
    st.status = liveStatus(st);
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
    if (st.status == ContainerStatus::Paused)
        return fail(Code::Conflict,
                    "container " + id + " is paused, unpause it first (tether unpause " + id + ")");
    pid_t target = st.pid();
    std::vector<std::pair<UniqueFd, int>> nsFds; // fd, type; user first, mnt last
    std::vector<std::pair<const char*, int>> kinds = {
        {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET},
        {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS}};
    if (st.userns.value_or(false)) kinds.insert(kinds.begin(), {"user", CLONE_NEWUSER});
    for (auto [name, type] : kinds) {
        std::string path = "/proc/" + std::to_string(target) + "/ns/" + name;
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) return failErrno("open " + path, errno);
        nsFds.emplace_back(std::move(fd), type);
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
    spec.caps = st.caps.value_or(std::vector<int>{});
    spec.uid = st.user ? st.user->uid : 0;
    spec.gid = st.user ? st.user->gid : 0;
    if (!x.user.empty())
        std::tie(spec.uid, spec.gid) =
            TRY(resolveUser(x.user, "/proc/" + std::to_string(target) + "/root"));
    spec.stdio.tty = x.tty;
    spec.stdio.nullStdin = !x.interactive;
    spec.stdio.uid = spec.uid;
    spec.stdio.gid = spec.gid;
    spec.stdio.size = callerWindowSize();
    spec.seccomp = st.seccomp.value_or(true);
    if (spec.seccomp) {
        SeccompRecord custom = st.seccompProfile.value_or(SeccompRecord{"default", ""});
        spec.seccompFilter = TRY(seccompFilterFor(
            custom.json.empty() ? defaultSeccompProfile() : custom.json, spec.caps,
            paths.libRoot + "/seccomp", custom.source.empty() ? "default" : custom.source));
    }
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
        return failErrno("socketpair", errno);
    UniqueFd parentEnd(sp[0]), childEnd(sp[1]);
    spec.syncFd = childEnd.get();
    Cgroup cg = st.cgroup.value_or(Cgroup());
    sigset_t set = supervisedSignals(), old;
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t helper = ::fork();
    if (helper == 0) {
        // The helper keeps only the fds named below (closeFdsExcept); the UniqueFds of this
        // frame are the parent's and are never destroyed here (every path ends in _exit).
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
        for (const auto& [fd, type] : nsFds)
            keep.push_back(fd.get());
        closeFdsExcept(keep);
        if (auto r = cg.addPid(::getpid()); !r) die(r.error().msg);
        for (const auto& [fd, type] : nsFds)
            if (::setns(fd.get(), type) != 0)
                die(errnoError("setns into container " + id, errno).msg);
        for (const auto& [fd, type] : nsFds) // raw: this process's copies (see above)
            ::close(fd.get());
        pid_t inner = ::fork();
        if (inner < 0) die(errnoError("fork", errno).msg);
        if (inner == 0) {
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            finishAndExec(spec);
        }
        ::close(spec.syncFd); // raw: this process's copy of childEnd
        ::_exit(superviseChild(inner));
    }
    childEnd.reset();
    nsFds.clear();
    if (helper < 0) {
        sigprocmask(SIG_SETMASK, &old, nullptr);
        return failErrno("fork", errno);
    }
    SyncOutcome sync = readSync(parentEnd.get()); // the pty master (-t), then EOF or an error
    parentEnd.reset();
    int code;
    {
        RawTerminal raw(x.tty && x.interactive);
        RelayPlan plan;
        plan.master = sync.masterFd.get();
        plan.forwardStdin = x.interactive;
        code = sync.masterFd ? superviseWithRelay(helper, plan) : superviseChild(helper);
    }
    sync.masterFd.reset();
    sigprocmask(SIG_SETMASK, &old, nullptr);
    if (sync.code != 0) {
        std::fprintf(stderr, "tether: %s\n", sync.message.c_str());
        return sync.code;
    }
    return code;
}

Status killContainer(const LauncherPaths& paths, const std::string& id, int sig) {
    auto st = TRY(runningState(paths, id));
    if (::kill(st.pid(), sig) != 0) return failErrno("kill container " + id, errno);
    return {};
}

Status pauseContainer(const LauncherPaths& paths, const std::string& id, bool pause) {
    auto st = TRY(runningState(paths, id));
    return st.cgroup.value_or(Cgroup()).setFrozen(pause);
}

Status removeContainer(const LauncherPaths& paths, const std::string& id, bool force) {
    auto read = readState(paths, id);
    if (!read && force && read.error().code != Code::UnknownContainer)
        return removeUnreadableContainer(paths, id, read.error());
    auto st = TRY(std::move(read));
    ContainerStatus status = liveStatus(st);
    if (isUp(status) && !force)
        return fail(Code::Conflict,
                    "container " + id + " is " + statusName(status) + " (use rm -f)");
    if (st.cgroup) {
        if (st.cgroup->frozen()) (void)st.cgroup->setFrozen(false);
        (void)st.cgroup->killAll();
    }
    for (int i = 0; i < 500 && st.supervisorAlive() && st.supervisor->pid != ::getpid(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (auto again = readState(paths, id))
        st = *again;
    else if (again.error().code == Code::UnknownContainer)
        return {};
    return teardownContainer(paths, st, true);
}

std::vector<std::string> gcContainers(const LauncherPaths& paths, std::vector<Error>* unreadable) {
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
            // A state.json that cannot be read is kept (with what it owns) and reported.
            if (st.error().code != Code::UnknownContainer) {
                if (unreadable) unreadable->push_back(st.error());
                continue;
            }
            if (!isStateDir(paths.stateDir(id))) continue;
            UniqueFd fd(::open(paths.stateDir(id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!fd) continue;
            struct stat dirSt {};
            bool young = ::fstat(fd.get(), &dirSt) != 0 || dirSt.st_ctime + 5 > std::time(nullptr);
            if (!young && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0 && !readState(paths, id)) {
                auto r = removeTree(paths.stateDir(id));
                actions.push_back("removed container " + id + " (no state)" +
                                  (r ? "" : " (" + r.error().text() + ")"));
            }
            continue;
        }
        bool dead = !st->supervisorAlive() && !(st->process && st->process->alive());
        if (!dead) continue;
        // Kept until `rm`, as podman keeps them: an exited detached container, and a created
        // one (it has no process yet; `start` runs it).
        if (st->detached && st->status == ContainerStatus::Exited) continue;
        if (st->status == ContainerStatus::Created) continue;
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
