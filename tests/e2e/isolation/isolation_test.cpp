// The isolation suite (issue 15): from inside a default `tether run` container (busybox rootfs,
// Docker's 14 capabilities, the built-in seccomp allowlist, the default device policy), each
// attack is performed and the failure a user would see is asserted. The same probes run against
// runc's `runc spec` defaults in scripts/isolation-vs-runc.sh (docs/reliability.md has the table).
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>

#include "launcher_env.hpp"

using tether::test::LauncherEnv;
namespace fs = std::filesystem;

namespace {

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

/// `/probe ARGS...` in a default container (--net none) plus `opts`; its stdout, trimmed.
std::string probe(const LauncherEnv& env, const std::vector<std::string>& args,
                  const std::vector<std::string>& opts = {}) {
    std::vector<std::string> full = {"-v", LauncherEnv::probe() + ":/probe:ro"};
    full.insert(full.end(), opts.begin(), opts.end());
    full.push_back("--");
    full.push_back("/probe");
    full.insert(full.end(), args.begin(), args.end());
    auto r = env.runNone(full);
    INFO(r.err);
    return trimmed(r.out);
}

/// A file that exists only on the host.
std::string hostMarker(const LauncherEnv& env) {
    std::string m = env.scratch("host-only-marker");
    std::ofstream(m) << "host";
    return m;
}

/// major:minor of the disk holding the host's root filesystem.
std::pair<unsigned, unsigned> rootDisk() {
    struct stat st {};
    if (::stat("/", &st) == 0 && major(st.st_dev) != 0) return {major(st.st_dev), 0};
    for (const auto& e : fs::directory_iterator("/sys/block")) {
        std::string n = e.path().filename();
        if (n.starts_with("loop") || n.starts_with("ram") || n.starts_with("zram")) continue;
        std::ifstream in(e.path() / "dev");
        unsigned ma = 0, mi = 0;
        char colon;
        if (in >> ma >> colon >> mi) return {ma, mi};
    }
    return {8, 0};
}

} // namespace

TEST_CASE("isolation: host processes are not visible", "[isolation]") {
    LauncherEnv env;
    std::random_device rd;
    std::string marker = "tether-isolation-" + std::to_string(rd());
    pid_t host = ::fork();
    if (host == 0) {
        ::execlp("sleep", marker.c_str(), "60", nullptr); // the marker is its argv[0]
        ::_exit(127);
    }
    REQUIRE(host > 0);
    CHECK(probe(env, {"hostpid", marker}) == "hidden");
    // what `ps` in the container shows: itself only, as PID 1
    auto ps = env.runNone({"--", "ps", "-o", "pid,comm"});
    CHECK(ps.out.find("    1 ps\n") != std::string::npos);
    CHECK(std::count(ps.out.begin(), ps.out.end(), '\n') == 2); // header + ps
    ::kill(host, SIGKILL);
    ::waitpid(host, nullptr, 0);
}

TEST_CASE("isolation: /proc and /sys cannot be remounted read-write", "[isolation]") {
    LauncherEnv env;
    CHECK(probe(env, {"remount", "/proc"}) == "EPERM");
    CHECK(probe(env, {"remount", "/sys"}) == "EPERM");
    CHECK(probe(env, {"remount", "/proc/sys"}) == "EPERM");
    auto r = env.runNone({"--", "sh", "-c", "mount -o remount,rw /sys 2>&1; echo rc=$?"});
    CHECK(r.out.find("rc=0") == std::string::npos);
    CHECK(r.out.find("ermission denied") != std::string::npos); // busybox: EPERM
}

TEST_CASE("isolation: /proc/sys, /proc/sysrq-trigger and /sys are not writable", "[isolation]") {
    LauncherEnv env;
    for (const char* p :
         {"/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches", "/proc/sys/kernel/core_pattern",
          "/proc/sysrq-trigger", "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/fs/cgroup"}) {
        INFO(p);
        std::string r = probe(env, {"write", p});
        CHECK(r != "open-ok");
        CHECK((r == "EROFS" || r == "ENOENT" || r == "EISDIR" || r == "EACCES"));
    }
    CHECK(probe(env, {"write", "/proc/sys/kernel/core_pattern"}) == "EROFS");
    if (fs::exists("/proc/sysrq-trigger")) { // CONFIG_MAGIC_SYSRQ (not on every kernel)
        CHECK(probe(env, {"write", "/proc/sysrq-trigger"}) == "EROFS");
        auto r = env.runNone({"--", "sh", "-c", "echo h > /proc/sysrq-trigger; echo rc=$?"});
        CHECK(r.out == "rc=1\n");
    } else {
        WARN("this kernel has no /proc/sysrq-trigger");
    }
}

TEST_CASE("isolation: dangerous syscalls are denied", "[isolation]") {
    LauncherEnv env;
    const std::map<std::string, std::string> expected = {
        {"init_module", "EPERM"},     {"finit_module", "EPERM"},
        {"delete_module", "EPERM"},   {"kexec_load", "EPERM"},
        {"kexec_file_load", "EPERM"}, {"bpf", "EPERM"},
        {"keyctl", "EPERM"},          {"add_key", "EPERM"},
        {"perf_event_open", "EPERM"}, {"userfaultfd", "EPERM"},
        {"io_uring_setup", "EPERM"},  {"unshare_newuser", "EPERM"},
        {"clone_newuser", "EPERM"},   {"clone3_newuser", "ENOSYS"},
        {"reboot", "EPERM"},          {"open_by_handle_at", "EPERM"},
        {"swapon", "EPERM"},          {"ptrace_init", "EPERM"},
    };
    for (const auto& [sc, want] : expected) {
        INFO(sc);
        CHECK(probe(env, {"syscall", sc}) == want);
    }
}

TEST_CASE("isolation: host devices cannot be opened, whatever node is made", "[isolation]") {
    LauncherEnv env;
    auto [dma, dmi] = rootDisk();
    struct Dev {
        const char* what;
        std::string type;
        unsigned ma, mi;
    };
    for (const Dev& d :
         {Dev{"kmsg", "c", 1, 11}, Dev{"ttyS0", "c", 4, 64}, Dev{"loop-control", "c", 10, 237},
          Dev{"fuse", "c", 10, 229}, Dev{"mem", "c", 1, 1}, Dev{"console", "c", 5, 1},
          Dev{"root disk", "b", dma, dmi}}) {
        INFO(d.what);
        // CAP_MKNOD is a default capability (mknod is allowed, as in runc and Docker): the
        // device cgroup refuses the open.
        CHECK(probe(env, {"device", d.type, std::to_string(d.ma), std::to_string(d.mi)}) ==
              "mknod=ok open=EPERM");
    }
    auto kmsg = env.runNone(
        {"--", "sh", "-c", "mknod /dev/kmsg c 1 11 && echo pwned > /dev/kmsg; echo rc=$?"});
    CHECK(kmsg.out == "rc=1\n");
    CHECK(kmsg.err.find("Operation not permitted") != std::string::npos);
    // The default set still works; /dev holds nothing else.
    CHECK(probe(env, {"device", "c", "1", "3"}) == "mknod=ok open=ok");
    auto ls = env.runNone({"--", "sh", "-c", "ls /dev | tr '\\n' ' '"});
    CHECK(ls.out ==
          "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero ");
    // --device adds exactly one: fuse on request.
    if (fs::exists("/dev/fuse")) {
        auto fuse = env.runNone(
            {"--device", "/dev/fuse", "--", "sh", "-c", "exec 3<>/dev/fuse && echo fuse-open"});
        INFO(fuse.err);
        CHECK(fuse.out == "fuse-open\n");
    }
}

TEST_CASE("isolation: the classic chroot escape stays in the container", "[isolation]") {
    LauncherEnv env;
    CHECK(probe(env, {"breakout", hostMarker(env)}) == "contained");
}

TEST_CASE("isolation: no way to the host through /proc/1/root or inherited fds", "[isolation]") {
    LauncherEnv env;
    std::string marker = hostMarker(env);
    CHECK(probe(env, {"proc1root", marker}) == "contained");
    CHECK(probe(env, {"proc1root", marker}, {"--init"}) == "contained");
    CHECK(probe(env, {"fds", marker}) == "contained");
    CHECK(probe(env, {"fds", marker}, {"--init"}) == "contained");
}

TEST_CASE("isolation: root in --userns has no host privileges", "[isolation]") {
    LauncherEnv env;
    std::string file = env.scratch("root-owned");
    std::ofstream(file) << "original\n";
    ::chmod(file.c_str(), 0644); // root-owned, writable by root only
    auto w = env.runNone({"--userns", "-v", file + ":/hostfile", "--", "sh", "-c",
                          "id -u; echo pwned >> /hostfile; echo rc=$?"});
    INFO(w.err);
    CHECK(w.out == "0\nrc=1\n"); // root in the container ...
    std::ifstream in(file);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == "original\n"); // ... but not on the host
    for (const char* sc : {"init_module", "finit_module", "kexec_load"}) {
        INFO(sc);
        CHECK(probe(env, {"syscall", sc}, {"--userns"}) == "EPERM");
    }
    auto dev = probe(env, {"device", "c", "1", "11"}, {"--userns"});
    CHECK(dev.find("open=ok") == std::string::npos);
    CHECK(env.leftovers().empty());
}
