#include "runtime/launcher/rootfs.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "base/unique_fd.hpp"
#include "runtime/launcher/fs_util.hpp"

namespace tether::rt {
namespace {

Status copyFile(const std::string& from, const std::string& to, mode_t mode) {
    auto data = TRY(readFile(from));
    return writeFile(to, data, true, mode);
}

Expected<std::string> busyboxApplets() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return failErrno("pipe", errno);
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) return failErrno("fork", errno);
    if (pid == 0) {
        ::dup2(writeEnd.get(), 1);
        ::execl("/bin/busybox", "busybox", "--list-full", nullptr);
        ::_exit(127);
    }
    writeEnd.reset();
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(readEnd.get(), buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    readEnd.reset();
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fail(Code::IoFailure,
                    "/bin/busybox --list-full failed (is busybox-static installed?)");
    return out;
}

Status buildRootfs(const std::string& dir) {
    for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp",
                          "root", "home", "var/tmp", "run", "mnt"})
        TRY(mkdirs(dir + "/" + d));
    ::chmod((dir + "/tmp").c_str(), 01777);
    ::chmod((dir + "/var/tmp").c_str(), 01777);
    TRY(copyFile("/bin/busybox", dir + "/bin/busybox", 0755));
    std::istringstream in(TRY(busyboxApplets()));
    std::string applet;
    while (std::getline(in, applet)) {
        if (applet.empty() || applet == "bin/busybox" || applet.find("..") != std::string::npos)
            continue;
        std::string link = dir + "/" + applet;
        TRY(mkdirs(link.substr(0, link.rfind('/'))));
        if (::symlink("/bin/busybox", link.c_str()) != 0 && errno != EEXIST)
            return failErrno("symlink " + link, errno, Code::IoFailure);
    }
    TRY(writeFile(
        dir + "/etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        true, 0644));
    TRY(writeFile(dir + "/etc/group", "root:x:0:\nnogroup:x:65534:\n", true, 0644));
    TRY(writeFile(dir + "/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n", true,
                  0644));
    auto resolv = readFile("/etc/resolv.conf");
    TRY(writeFile(dir + "/etc/resolv.conf", resolv ? *resolv : "nameserver 1.1.1.1\n", true, 0644));
    return {};
}

/// Opens (creating when missing) `rel` below the directory fd `rootFd` one component at a time
/// with O_NOFOLLOW, so a symlink in the image can never redirect a mount outside the root.
/// The last component is created as a file when `file` is true. Returns an O_PATH fd.
Expected<UniqueFd> openInRoot(int rootFd, const std::string& rel, bool file,
                              const std::string& shown) {
    UniqueFd cur(::dup(rootFd));
    std::istringstream parts(rel);
    std::vector<std::string> comps;
    std::string c;
    while (std::getline(parts, c, '/'))
        if (!c.empty() && c != ".") comps.push_back(c);
    for (size_t i = 0; i < comps.size(); ++i) {
        bool last = i + 1 == comps.size();
        if (comps[i] == "..")
            return fail(Code::InvalidConfig, "mount target " + shown + " contains ..");
        if (last && file) {
            // An existing file is opened O_PATH (no write access needed: read-only roots,
            // files of an unmapped owner under --userns); a missing one is created.
            const char* name = comps[i].c_str();
            UniqueFd f(::openat(cur.get(), name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
            struct stat fst {};
            if (f && ::fstat(f.get(), &fst) == 0 && S_ISLNK(fst.st_mode)) {
                f.reset();
                errno = ELOOP;
            }
            if (!f && errno == ENOENT)
                f.reset(
                    ::openat(cur.get(), name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
            if (!f && errno == EISDIR)
                f.reset(::openat(cur.get(), name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
            if (!f) return failErrno("create mount target " + shown, errno);
            return f;
        }
        if (::mkdirat(cur.get(), comps[i].c_str(), 0755) != 0 && errno != EEXIST)
            return failErrno("mkdir " + shown, errno);
        UniqueFd next(
            ::openat(cur.get(), comps[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next)
            return failErrno("open mount target " + shown +
                                 (errno == ENOTDIR ? " (a symlink or file in the image)" : ""),
                             errno);
        cur = std::move(next);
    }
    return cur;
}

Status mountAt(int rootFd, const std::string& rel, const char* src, const char* type,
               unsigned long flags, const char* data, bool file = false) {
    UniqueFd fd = TRY(openInRoot(rootFd, rel, file, rel));
    std::string target = "/proc/self/fd/" + std::to_string(fd.get());
    int rc = ::mount(src, target.c_str(), type, flags, data);
    int err = errno;
    fd.reset();
    if (rc != 0) return failErrno(std::string("mount ") + (type ? type : src) + " on " + rel, err);
    return {};
}

Status remountReadOnly(const std::string& path, bool recursive = false) {
    struct statvfs sv {};
    if (::statvfs(path.c_str(), &sv) != 0) return failErrno("statvfs " + path, errno);
    unsigned long keep = 0;
    if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | keep | (recursive ? MS_REC : 0);
    if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) != 0)
        return failErrno("remount " + path + " read-only", errno);
    return {};
}

const char* const kMasked[] = {"/proc/acpi",
                               "/proc/asound",
                               "/proc/kcore",
                               "/proc/keys",
                               "/proc/latency_stats",
                               "/proc/timer_list",
                               "/proc/timer_stats",
                               "/proc/sched_debug",
                               "/proc/scsi",
                               "/sys/firmware",
                               "/sys/devices/virtual/powercap"};
const char* const kReadOnly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                 "/proc/sysrq-trigger"};

struct DevNode {
    const char* name;
    unsigned major, minor;
};
constexpr DevNode kDevNodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                 {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

/// --device nodes: made with the host node's type and numbers (bound from the host under
/// --userns, where mknod is refused), after the default ones.
Status makeRequestedDevices(int rootFd, const std::vector<DeviceRequest>& devices, bool userns) {
    for (const auto& d : devices) {
        std::string rel = d.containerPath.substr(1);
        if (userns) {
            TRY(mountAt(rootFd, rel, d.hostPath.c_str(), nullptr, MS_BIND, nullptr, true));
            continue;
        }
        auto slash = rel.rfind('/');
        std::string dirRel = slash == std::string::npos ? "" : rel.substr(0, slash);
        std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
        UniqueFd dir = TRY(openInRoot(rootFd, dirRel, false, "/" + dirRel));
        mode_t kind = d.type == 'b' ? S_IFBLK : S_IFCHR;
        mode_t old = ::umask(0);
        ::unlinkat(dir.get(), name.c_str(), 0); // replaces a default node of the same name
        int rc = ::mknodat(dir.get(), name.c_str(), kind | 0666, makedev(d.major, d.minor));
        int err = errno;
        ::umask(old);
        if (rc != 0) return failErrno("mknod " + d.containerPath + " (--device)", err);
    }
    return {};
}

Status mountDev(int rootFd, bool newIpc, bool userns) {
    TRY(mountAt(rootFd, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                "mode=755,size=65536k"));
    if (userns) {
        // mknod is not allowed in a user namespace: bind the host's nodes (as runc does)
        for (const auto& d : kDevNodes) {
            std::string host = std::string("/dev/") + d.name;
            TRY(mountAt(rootFd, std::string("dev/") + d.name, host.c_str(), nullptr, MS_BIND,
                        nullptr, true));
        }
    } else {
        // Real nodes in the tmpfs: six mounts fewer to make and to tear down with the namespace.
        UniqueFd dev = TRY(openInRoot(rootFd, "dev", false, "dev"));
        mode_t old = ::umask(0);
        for (const auto& d : kDevNodes) {
            if (::mknodat(dev.get(), d.name, S_IFCHR | 0666, makedev(d.major, d.minor)) != 0) {
                int err = errno;
                ::umask(old);
                return failErrno(std::string("mknod /dev/") + d.name, err);
            }
        }
        ::umask(old);
    }
    TRY(mountAt(rootFd, "dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620"));
    TRY(mountAt(rootFd, "dev/shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=1777,size=65536k"));
    if (newIpc)
        TRY(mountAt(rootFd, "dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    nullptr));
    UniqueFd dev = TRY(openInRoot(rootFd, "dev", false, "dev"));
    const std::pair<const char*, const char*> links[] = {{"pts/ptmx", "ptmx"},
                                                         {"/proc/self/fd", "fd"},
                                                         {"/proc/self/fd/0", "stdin"},
                                                         {"/proc/self/fd/1", "stdout"},
                                                         {"/proc/self/fd/2", "stderr"}};
    std::string devPath = "/proc/self/fd/" + std::to_string(dev.get());
    for (auto [to, name] : links) {
        std::string at = devPath + "/" + name;
        if (::symlink(to, at.c_str()) != 0 && errno != EEXIST)
            return failErrno(std::string("symlink /dev/") + name, errno);
    }
    return {};
}

} // namespace

Expected<std::string> ensureDefaultRootfs(const LauncherPaths& paths) {
    std::string base = paths.libRoot + "/rootfs";
    std::string dir = base + "/default";
    struct stat st {};
    if (::stat((dir + "/bin/busybox").c_str(), &st) == 0) return dir;
    TRY(mkdirs(base, 0711));
    UniqueFd lock(::open((base + "/.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
    if (!lock) return failErrno("open " + base + "/.lock", errno, Code::IoFailure);
    ::flock(lock.get(), LOCK_EX);
    auto build = [&]() -> Expected<std::string> {
        if (::stat((dir + "/bin/busybox").c_str(), &st) == 0) return dir;
        std::string tmp = dir + ".tmp-" + std::to_string(::getpid());
        (void)removeTree(tmp);
        if (auto r = buildRootfs(tmp); !r) {
            (void)removeTree(tmp);
            return std::unexpected(r.error().wrap("build default rootfs " + dir));
        }
        ::chmod(tmp.c_str(), 0755);
        if (::rename(tmp.c_str(), dir.c_str()) != 0) {
            int err = errno;
            (void)removeTree(tmp);
            return failErrno("rename " + tmp + " to " + dir, err, Code::IoFailure);
        }
        return dir;
    };
    return build();
}

Status setupMounts(const MountPlan& plan) {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return failErrno("make / private", errno);
    std::string lower = plan.lower;
    UniqueFd lowerFd;
    if (plan.privateUpper) {
        // Mounting over a directory takes its inode lock: over the state dir the launcher is
        // writing state.json into, that waited for ext4's journal. The image dir is only read.
        lowerFd.reset(::open(plan.lower.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!lowerFd) return failErrno("open " + plan.lower, errno);
        lower = "/proc/self/fd/" + std::to_string(lowerFd.get());
        auto scratch = [&]() -> Status {
            if (::mount("tmpfs", plan.lower.c_str(), "tmpfs", 0, "mode=755") != 0)
                return failErrno("mount tmpfs for the overlay's upper layer over " + plan.lower,
                                 errno);
            for (const auto& [dir, mode] : {std::pair{plan.upper, 0755}, {plan.work, 0700}})
                if (::mkdir(dir.c_str(), static_cast<mode_t>(mode)) != 0)
                    return failErrno("mkdir " + dir, errno);
            return {};
        };
        TRY(scratch());
    }
    if (!plan.lower.empty()) {
        std::string opts =
            "lowerdir=" + lower + ",upperdir=" + plan.upper + ",workdir=" + plan.work;
        if (plan.userns) opts += ",userxattr";
        int rc = ::mount("overlay", plan.root.c_str(), "overlay", 0, opts.c_str());
        int err = errno;
        lowerFd.reset();
        if (rc != 0)
            return failErrno("mount overlay (lower " + plan.lower + ") on " + plan.root, err);
    } else if (::mount(plan.bindSource.c_str(), plan.root.c_str(), nullptr, MS_BIND | MS_REC,
                       nullptr) != 0) { // root == bindSource: a self-bind, the pivot target
        return failErrno("bind " + plan.bindSource + " on " + plan.root, errno);
    }
    UniqueFd root(::open(plan.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return failErrno("open " + plan.root, errno);
    int rootFd = root.get();
    auto mounts = [&]() -> Status {
        TRY(mountAt(rootFd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr));
        if (auto st = mountAt(rootFd, "sys", "sysfs", "sysfs",
                              MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, nullptr);
            !st) {
            if (!plan.userns) return st;
            TRY(mountAt(rootFd, "sys", "/sys", nullptr, MS_BIND | MS_REC, nullptr));
        }
        TRY(mountDev(rootFd, plan.newIpc, plan.userns));
        TRY(makeRequestedDevices(rootFd, plan.devices, plan.userns));
        TRY(mountAt(rootFd, "tmp", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"));
        for (const auto& v : plan.volumes) {
            struct stat st {};
            if (::stat(v.host.c_str(), &st) != 0) return failErrno("volume " + v.host, errno);
            TRY(mountAt(rootFd, v.container, v.host.c_str(), nullptr, MS_BIND | MS_REC, nullptr,
                        !S_ISDIR(st.st_mode)));
        }
        return {};
    };
    auto st = mounts();
    root.reset(); // before pivot_root
    if (!st) return st;
    if (::chdir(plan.root.c_str()) != 0) return failErrno("chdir " + plan.root, errno);
    if (::syscall(SYS_pivot_root, ".", ".") != 0)
        return failErrno("pivot_root " + plan.root, errno);
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
        return failErrno("make old root rslave", errno);
    if (::umount2(".", MNT_DETACH) != 0) return failErrno("detach old root", errno);
    if (::chdir("/") != 0) return failErrno("chdir /", errno);
    for (const auto& v : plan.volumes)
        if (v.readOnly) TRY(remountReadOnly(v.container, true));
    // Masked directories all get the same empty read-only tmpfs (the first is mounted, the
    // others are bind mounts of it: one superblock to set up and tear down), files /dev/null.
    const char* emptyDir = nullptr;
    for (const char* p : kMasked) {
        struct stat st2 {};
        if (::lstat(p, &st2) != 0) continue;
        int rc;
        if (!S_ISDIR(st2.st_mode))
            rc = ::mount("/dev/null", p, nullptr, MS_BIND, nullptr);
        else if (emptyDir)
            rc = ::mount(emptyDir, p, nullptr, MS_BIND, nullptr);
        else if (rc = ::mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                              "size=0");
                 rc == 0)
            emptyDir = p;
        if (rc != 0) return failErrno(std::string("mask ") + p, errno);
    }
    // Below /proc, which was mounted nosuid,nodev,noexec: those flags are kept on the remount.
    for (const char* p : kReadOnly) {
        if (::mount(p, p, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
            if (errno == ENOENT) continue;
            return failErrno(std::string("bind ") + p, errno);
        }
        if (::mount(nullptr, p, nullptr,
                    MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_REC,
                    nullptr) != 0)
            return failErrno(std::string("remount ") + p + " read-only", errno);
    }
    if (plan.readOnly) TRY(remountReadOnly("/"));
    return {};
}

} // namespace tether::rt
