// A static program bind-mounted into test containers: performs one privileged operation and
// prints what the kernel answered, so tests can assert on confinement from the inside. Each
// command prints one line; "ok" (or "escaped", "visible", "open-ok") means the attack worked.
//   probe syscall NAME        -> "EPERM" / "ok" / other errno name (ENOSYS, EACCES ...) for
//                                add_key keyctl bpf unshare perf_event_open userfaultfd reboot
//                                init_module finit_module delete_module kexec_load
//                                kexec_file_load io_uring_setup open_by_handle_at swapon
//                                unshare_newuser clone_newuser clone3_newuser clone3 chroot
//                                ptrace_init (PTRACE_ATTACH to PID 1)
//   probe breakout MARKER     -> chroot escape attempt; "escaped" when MARKER (an absolute path
//                                that exists only on the host) is visible afterwards, else
//                                "contained"
//   probe fds MARKER          -> every fd >= 3 of every visible process but the probe's own
//                                ("fd PID/N TARGET" lines, then "escaped" when MARKER can be
//                                reached through one of them, else "contained")
//   probe proc1root MARKER    -> "escaped" when MARKER is reachable through /proc/1/root
//   probe hostpid MARKER      -> "visible" when a process whose command line contains MARKER
//                                is in /proc, else "hidden"
//   probe device c|b MAJ MIN  -> "mknod=<r> open=<r>" for a node made in /dev (not nodev)
//   probe dropuid UID         -> drops to UID/GID (setresuid: the kernel clears the parent-death
//                                signal, the gosu pattern), prints "pdeathsig=N", then sleeps
//   probe write PATH          -> open(PATH, O_WRONLY): "open-ok" or the errno name (no write)
//   probe remount PATH        -> "ok" or errno of a read-write remount of the mount at PATH
//   probe mkfile DIR          -> "ok" or errno of creating DIR/probe-file
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/kexec.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char* errName(int err) {
    return err == EPERM ? "EPERM" : strerrorname_np(err);
}

int report(long rc) {
    if (rc >= 0)
        std::puts("ok");
    else
        std::puts(errName(errno));
    return 0;
}

/// A child made with clone flags `flags`: "ok" when it was created (it exits at once).
int cloneWith(unsigned long flags, bool three) {
    long pid;
    if (three) {
        clone_args args{};
        args.flags = flags;
        args.exit_signal = SIGCHLD;
        pid = syscall(SYS_clone3, &args, sizeof args);
    } else {
        pid = syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0);
    }
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return report(pid);
}

int syscallProbe(const std::string& arg) {
    if (arg == "add_key") return report(syscall(SYS_add_key, "user", "k", "v", 1, -2));
    if (arg == "keyctl") return report(syscall(SYS_keyctl, 0 /*GET_KEYRING_ID*/, -2, 0));
    if (arg == "bpf") return report(syscall(SYS_bpf, 0, nullptr, 0));
    if (arg == "unshare") return report(syscall(SYS_unshare, CLONE_NEWUTS));
    if (arg == "unshare_newuser") return report(syscall(SYS_unshare, CLONE_NEWUSER));
    if (arg == "clone_newuser") return cloneWith(CLONE_NEWUSER, false);
    if (arg == "clone3_newuser") return cloneWith(CLONE_NEWUSER, true);
    if (arg == "clone3") return cloneWith(0, true);
    if (arg == "perf_event_open")
        return report(syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0));
    if (arg == "userfaultfd") return report(syscall(SYS_userfaultfd, 0));
    if (arg == "reboot")
        return report(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                              LINUX_REBOOT_CMD_CAD_OFF, nullptr));
    if (arg == "init_module") return report(syscall(SYS_init_module, nullptr, 0, ""));
    if (arg == "finit_module") return report(syscall(SYS_finit_module, -1, "", 0));
    if (arg == "delete_module") return report(syscall(SYS_delete_module, "tether_none", 0));
    if (arg == "kexec_load") return report(syscall(SYS_kexec_load, 0, 0, nullptr, 0));
    if (arg == "kexec_file_load")
        return report(syscall(SYS_kexec_file_load, -1, -1, 0, "", KEXEC_FILE_NO_INITRAMFS));
    if (arg == "io_uring_setup") {
        char params[120] = {};
        return report(syscall(SYS_io_uring_setup, 1, params));
    }
    if (arg == "open_by_handle_at") {
        struct {
            unsigned int bytes;
            int type;
            unsigned char data[8];
        } h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
        return report(syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY));
    }
    if (arg == "swapon") return report(swapon("/dev/null", 0));
    if (arg == "chroot") return report(chroot("/"));
    if (arg == "ptrace_init") {
        long rc = ptrace(PTRACE_ATTACH, 1, nullptr, nullptr);
        int err = errno;
        if (rc == 0) ptrace(PTRACE_DETACH, 1, nullptr, nullptr);
        errno = err;
        return report(rc);
    }
    std::printf("unknown syscall probe %s\n", arg.c_str());
    return 2;
}

bool reachable(const std::string& base, const std::string& marker) {
    std::string path = base;
    for (int i = 0; i < 40; ++i)
        path += "/..";
    struct stat st {};
    return stat((path + marker).c_str(), &st) == 0;
}

/// Every fd >= 3 of every process in /proc (the probe's own excepted); a directory fd is a
/// way to the host's tree when ".." from it leads where MARKER is.
int fdsProbe(const std::string& marker) {
    bool escaped = false;
    std::string self = std::to_string(getpid());
    DIR* proc = opendir("/proc");
    if (!proc) return report(-1);
    int procFd = dirfd(proc);
    while (dirent* e = readdir(proc)) {
        std::string pid = e->d_name;
        if (pid.find_first_not_of("0123456789") != std::string::npos || pid == self) continue;
        DIR* fds = opendir(("/proc/" + pid + "/fd").c_str());
        if (!fds) continue;
        while (dirent* f = readdir(fds)) {
            std::string n = f->d_name;
            if (n == "." || n == ".." || std::atoi(n.c_str()) < 3) continue;
            std::string link = "/proc/" + pid + "/fd/" + n;
            char target[512] = {};
            (void)!readlink(link.c_str(), target, sizeof target - 1);
            std::printf("fd %s/%s %s\n", pid.c_str(), n.c_str(), target);
            struct stat st {};
            if (stat(link.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && reachable(link, marker))
                escaped = true;
        }
        closedir(fds);
    }
    (void)procFd;
    closedir(proc);
    std::puts(escaped ? "escaped" : "contained");
    return 0;
}

int hostpidProbe(const std::string& marker) {
    DIR* proc = opendir("/proc");
    bool seen = false;
    while (dirent* e = proc ? readdir(proc) : nullptr) {
        std::string pid = e->d_name;
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        int fd = open(("/proc/" + pid + "/cmdline").c_str(), O_RDONLY);
        if (fd < 0) continue;
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        for (ssize_t i = 0; i < n; ++i)
            if (buf[i] == 0) buf[i] = ' ';
        if (n > 0 && std::string(buf, static_cast<size_t>(n)).find(marker) != std::string::npos &&
            pid != std::to_string(getpid()))
            seen = true;
    }
    if (proc) closedir(proc);
    std::puts(seen ? "visible" : "hidden");
    return 0;
}

int deviceProbe(const std::string& type, int major, int minor) {
    std::string node = "/dev/probe-dev-" + std::to_string(getpid());
    mode_t kind = type == "b" ? S_IFBLK : S_IFCHR;
    int rc = mknod(node.c_str(), kind | 0600, makedev(major, minor));
    std::string made = rc == 0 ? "ok" : errName(errno);
    std::string opened = "skipped";
    if (rc == 0) {
        int fd = open(node.c_str(), O_RDWR | O_NONBLOCK | O_NOCTTY);
        if (fd < 0 && errno != EPERM) fd = open(node.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY);
        opened = fd >= 0 ? "ok" : errName(errno);
        if (fd >= 0) close(fd);
        unlink(node.c_str());
    }
    std::printf("mknod=%s open=%s\n", made.c_str(), opened.c_str());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    std::string what = argv[1], arg = argv[2];
    if (what == "syscall") return syscallProbe(arg);
    if (what == "breakout") {
        mkdir("/breakout-dir", 0755);
        if (chroot("/breakout-dir") != 0) {
            std::printf("chroot failed: %s\n", std::strerror(errno));
            return 1;
        }
        for (int i = 0; i < 64; ++i)
            (void)!chdir("..");
        if (chroot(".") != 0) {
            std::printf("second chroot failed: %s\n", std::strerror(errno));
            return 1;
        }
        struct stat st {};
        std::puts(stat(arg.c_str(), &st) == 0 ? "escaped" : "contained");
        return 0;
    }
    if (what == "fds") return fdsProbe(arg);
    if (what == "proc1root") {
        std::puts(reachable("/proc/1/root", arg) || reachable("/proc/1/cwd", arg) ? "escaped"
                                                                                  : "contained");
        return 0;
    }
    if (what == "hostpid") return hostpidProbe(arg);
    if (what == "device" && argc >= 5)
        return deviceProbe(arg, std::atoi(argv[3]), std::atoi(argv[4]));
    if (what == "dropuid") {
        uid_t id = static_cast<uid_t>(std::atoi(arg.c_str()));
        if (setgroups(0, nullptr) != 0 || setresgid(id, id, id) != 0 || setresuid(id, id, id) != 0)
            return report(-1);
        int sig = -1;
        prctl(PR_GET_PDEATHSIG, &sig);
        std::printf("pdeathsig=%d\n", sig);
        std::fflush(stdout);
        for (;;)
            pause();
    }
    if (what == "write") {
        int fd = open(arg.c_str(), O_WRONLY);
        std::puts(fd >= 0 ? "open-ok" : errName(errno));
        return 0;
    }
    if (what == "remount")
        return report(mount(nullptr, arg.c_str(), nullptr, MS_REMOUNT | MS_BIND, nullptr));
    if (what == "mkfile") {
        int fd = open((arg + "/probe-file").c_str(), O_CREAT | O_WRONLY, 0644);
        if (fd >= 0) close(fd);
        return report(fd);
    }
    return 2;
}
