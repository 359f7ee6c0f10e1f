// A static program bind-mounted into test containers: performs one privileged operation and
// prints what the kernel answered, so tests can assert on confinement from the inside.
//   probe syscall NAME        -> "EPERM" / "ok" / other errno name for add_key, keyctl, bpf,
//                                 unshare, perf_event_open, userfaultfd, reboot
//   probe breakout MARKER     -> chroot escape attempt; "escaped" when MARKER (an absolute path
//                                 that exists only on the host) is visible afterwards, else
//                                 "contained"
#include <fcntl.h>
#include <linux/reboot.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

static int report(long rc) {
    if (rc >= 0)
        std::puts("ok");
    else
        std::puts(errno == EPERM ? "EPERM" : strerrorname_np(errno));
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    std::string what = argv[1], arg = argv[2];
    if (what == "syscall") {
        if (arg == "add_key") return report(syscall(SYS_add_key, "user", "k", "v", 1, -2));
        if (arg == "keyctl") return report(syscall(SYS_keyctl, 0 /*GET_KEYRING_ID*/, -2, 0));
        if (arg == "bpf") return report(syscall(SYS_bpf, 0, nullptr, 0));
        if (arg == "unshare") return report(syscall(SYS_unshare, CLONE_NEWUTS));
        if (arg == "perf_event_open")
            return report(syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0));
        if (arg == "userfaultfd") return report(syscall(SYS_userfaultfd, 0));
        if (arg == "reboot")
            return report(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                                  LINUX_REBOOT_CMD_CAD_OFF, nullptr));
        return 2;
    }
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
    return 2;
}
