#include "runtime/launcher/container.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <vector>

#include "libcni/attach.hpp"
#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/child.hpp"
#include "runtime/launcher/container_internal.hpp"
#include "runtime/launcher/etc_files.hpp"
#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/rootfs.hpp"
#include "runtime/launcher/seccomp_profile.hpp"
#include "runtime/launcher/security.hpp"
#include "runtime/launcher/state.hpp"

namespace tether::rt {
namespace {

constexpr uid_t kUsernsBase = 100000;
constexpr uid_t kUsernsSize = 65536;

Expected<UniqueFd> openContainerNs(const LauncherPaths& paths, const std::string& id,
                                   const char* ns) {
    auto st = TRY(readState(paths, id));
    if (liveStatus(st) != ContainerStatus::Running)
        return fail(Code::UnknownContainer, "container " + id + " is not running");
    std::string path = "/proc/" + std::to_string(st.pid()) + "/ns/" + ns;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return failErrno("open " + path + " of container " + id, errno);
    return fd;
}

/// Binds /proc/<pid>/ns/net on <dir>/tether-<id> like `ip netns add` (dir made a shared mount so
/// the pin is visible in other mount namespaces).
Status pinNetns(pid_t pid, const std::string& path) {
    std::string dir = path.substr(0, path.rfind('/'));
    TRY(mkdirs(dir));
    if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
        if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0 ||
            ::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0)
            return failErrno("make " + dir + " a shared mount", errno);
    }
    if (UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)); !fd)
        return failErrno("create netns pin " + path, errno,
                         errno == EEXIST ? Code::Conflict : Code::Kernel);
    std::string src = "/proc/" + std::to_string(pid) + "/ns/net";
    if (::mount(src.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
        int err = errno;
        ::unlink(path.c_str());
        return failErrno("bind " + src + " on " + path, err);
    }
    return {};
}

Status writeIdMaps(pid_t pid) {
    std::string base = "/proc/" + std::to_string(pid);
    std::string map = "0 " + std::to_string(kUsernsBase) + " " + std::to_string(kUsernsSize) + "\n";
    TRY(writeFile(base + "/uid_map", map));
    TRY(writeFile(base + "/setgroups", "deny"));
    TRY(writeFile(base + "/gid_map", map));
    return {};
}

} // namespace

Expected<pid_t> startProcess(Launch& l, int& failCode) {
    failCode = 125;
    RunOptions& o = l.opts;
    auto caps = TRY(resolveCapabilities(o.capAdd, o.capDrop));
    ChildSpec spec;
    UniqueFd joinNet, joinIpc, joinPid;
    if (o.net.kind == NsMode::Container)
        joinNet = TRY(openContainerNs(l.paths, o.net.container, "net"));
    if (o.ipc.kind == NsMode::Container)
        joinIpc = TRY(openContainerNs(l.paths, o.ipc.container, "ipc"));
    if (o.pid.kind == NsMode::Container)
        joinPid = TRY(openContainerNs(l.paths, o.pid.container, "pid"));

    MountPlan& m = spec.mounts;
    auto makeDir = [](const std::string& d, mode_t mode) -> Status {
        if (::mkdir(d.c_str(), mode) != 0 && errno != EEXIST) return failErrno("mkdir " + d, errno);
        return {};
    };
    std::vector<std::string> made; // dirs the container's user namespace root must own
    if (!o.rootfs.empty()) {
        m.bindSource = m.root = o.rootfs; // bound on itself in the container's mount namespace
    } else {
        m.lower = o.image.empty() ? TRY(ensureDefaultRootfs(l.paths)) : o.image;
        if (!o.userns) {
            // upper/work in a tmpfs that only the container's mount namespace sees (over the
            // image dir, the overlay on top): no directories to create and remove on the host,
            // no sync of the upper filesystem when the overlay goes away.
            m.privateUpper = true;
            m.root = m.lower;
            m.upper = m.lower + "/upper";
            m.work = m.lower + "/work";
        } else {
            // An overlay mounted in a user namespace keeps its metadata in user.* xattrs, which
            // tmpfs has only since Linux 6.6: keep upper/work on the state dir's filesystem.
            m.root = l.dir + "/rootfs";
            m.upper = l.dir + "/upper";
            m.work = l.dir + "/work";
            made = {m.root, m.upper, m.work};
            TRY(makeDir(m.root, 0755));
            TRY(makeDir(m.upper, 0755));
            TRY(makeDir(m.work, 0700));
        }
    }
    if (o.userns) {
        made.push_back(l.dir);
        for (const auto& p : made)
            if (::chown(p.c_str(), kUsernsBase, kUsernsBase) != 0)
                return failErrno("chown " + p + " for the user namespace", errno);
    }
    m.readOnly = o.readOnly;
    m.volumes = TRY(prepareEtcFiles(l.dir, o.rootfs.empty() ? m.lower : o.rootfs, o.userns));
    m.volumes.insert(m.volumes.end(), o.volumes.begin(), o.volumes.end());
    m.newIpc = o.ipc.kind == NsMode::Private;
    m.newPid = o.pid.kind == NsMode::Private;
    m.userns = o.userns;
    m.devices = o.devices;
    spec.hostname = o.hostname;
    spec.argv = o.command;
    spec.env = o.env;
    spec.workdir = o.workdir;
    spec.caps = caps;
    spec.ulimits = o.ulimits;
    spec.uid = o.uid;
    spec.gid = o.gid;
    spec.seccomp = o.seccomp;
    spec.seccompFilter = std::move(l.filter);
    spec.init = o.init;
    spec.joinNetFd = joinNet.get();
    spec.joinIpcFd = joinIpc.get();
    spec.stdio.tty = o.tty;
    spec.stdio.nullStdin = !o.interactive;
    spec.stdio.outFd = l.outW;
    spec.stdio.errFd = l.errW;
    spec.stdio.uid = o.uid;
    spec.stdio.gid = o.gid;
    spec.stdio.size = o.detach ? winsize{24, 80, 0, 0} : callerWindowSize();

    ContainerState& s = l.state;
    s.caps = caps;
    s.user = ContainerUser{o.uid, o.gid};
    auto cg = TRY(Cgroup::create(l.paths.stateRoot, l.paths.cgroupParent, o.id, o.limits,
                                 deviceRules(o.devices)));
    s.cgroup = cg;
    // state.json is first written after clone (one write fewer per container). Until then the
    // launcher holds the state dir's lock, and gc removes a state dir without state.json only
    // when that lock is free (then the cgroup has no state dir either and is removed too).
    auto save = [&]() -> Status {
        TRY(writeState(l.paths, s));
        l.lockFd.reset();
        return {};
    };

    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
        return failErrno("socketpair", errno);
    UniqueFd parentEnd(sp[0]), childEnd(sp[1]);
    spec.syncFd = childEnd.get();
    spec.parentFd = parentEnd.get();

    unsigned long flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWCGROUP | SIGCHLD;
    if (o.pid.kind == NsMode::Private) flags |= CLONE_NEWPID;
    if (o.ipc.kind == NsMode::Private) flags |= CLONE_NEWIPC;
    if (o.net.kind == NsMode::Private || o.net.kind == NsMode::None) flags |= CLONE_NEWNET;
    if (o.userns) flags |= CLONE_NEWUSER;
    spec.newNet = (flags & CLONE_NEWNET) != 0;
    if (joinPid && ::setns(joinPid.get(), CLONE_NEWPID) != 0)
        return failErrno("join pid namespace of " + o.pid.container, errno);
    UniqueFd cgroupFd(cg.unifiedDir().empty()
                          ? -1
                          : ::open(cg.unifiedDir().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    bool intoCgroup = false;
    pid_t pid = -1;
    // Set up the namespaces without waiting for the release when nothing the launcher does
    // after clone concerns them: no user namespace (id maps), and no v1 hierarchy to join by
    // writing cgroup.procs (so the setup is charged to the container's cgroups).
    spec.setupBeforeRelease = !o.userns && cg.dirs().size() == 1 && cg.dirs()[0] == cg.unifiedDir();
    if (cgroupFd) {
        clone_args args{};
        args.flags = (flags & ~0xffUL) | CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = static_cast<uint64_t>(cgroupFd.get());
        pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
        intoCgroup = pid >= 0;
    }
    if (pid < 0) {
        spec.setupBeforeRelease = false; // it joins its cgroup by a cgroup.procs write below
        pid = static_cast<pid_t>(::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0));
    }
    if (pid < 0) return failErrno("clone", errno);
    if (pid == 0) childMain(spec);
    childEnd.reset();
    s.process = ProcessRef{pid, processStartTime(pid)};

    std::vector<Attached> attached;
    auto prepare = [&]() -> Status {
        TRY(cg.addPid(pid, intoCgroup));
        if (o.userns) TRY(writeIdMaps(pid));
        if (o.net.kind == NsMode::Private) {
            std::string pin = l.paths.netnsPath(o.id);
            TRY(pinNetns(pid, pin));
            s.netns = pin;
            {
                AttachRequest req;
                req.containerId = o.id;
                req.netnsPath = pin;
                req.networks =
                    o.networks.empty() ? std::vector<std::string>{"default"} : o.networks;
                if (!o.portMappings.empty()) req.capabilityArgs["portMappings"] = o.portMappings;
                if (!o.ip.empty()) req.cniArgs.emplace_back("IP", o.ip);
                if (!o.mac.empty()) req.cniArgs.emplace_back("MAC", o.mac);
                s.network = NetworkRecord{req.networks, req.capabilityArgs, req.cniArgs, {}};
                TRY(save()); // before ADD: a crash during ADD leaves what gc needs for DEL
                attached = TRY(attachNetworks(NetPaths::fromEnv(), req));
                auto& list = s.network->attached.emplace();
                for (const auto& a : attached) {
                    NetworkAttachment rec{a.network, a.ifname, {}, {}};
                    for (const auto& ip : a.result.ips)
                        rec.ips.push_back(ip.address);
                    for (const auto& i : a.result.interfaces)
                        if (i.name == a.ifname && !i.sandbox.empty()) rec.mac = i.mac;
                    list.push_back(std::move(rec));
                }
            }
        }
        TRY(writeEtcFiles(l.dir, o, attached));
        s.startedAt = std::time(nullptr);
        s.status = ContainerStatus::Running;
        TRY(save());
        return {};
    };
    auto abortChild = [&] {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    };
    if (auto st = prepare(); !st) {
        abortChild();
        return std::unexpected(st.error());
    }
    // The release fails when the child already gave up (its setup may run before the release):
    // its message is still queued on the socket.
    bool released = ::send(parentEnd.get(), "G", 1, MSG_NOSIGNAL) == 1;
    int sendErr = errno;
    SyncOutcome sync = readSync(parentEnd.get()); // the pty master (-t), then EOF or an error
    if (sync.code != 0) {
        ::waitpid(pid, nullptr, 0);
        failCode = sync.code;
        return fail(Code::Internal, sync.message);
    }
    l.masterFd = std::move(sync.masterFd);
    if (!released) {
        abortChild();
        return failErrno("release container", sendErr);
    }
    return pid;
}

} // namespace tether::rt
