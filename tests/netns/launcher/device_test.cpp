// The device policy against the kernel: the eBPF program (hybrid's unified tree, and a pure v2
// hierarchy mounted in this test's private mount namespace) and the v1 devices controller. A
// process placed in the container cgroup opens what the default set allows and gets EPERM for
// the rest (/dev/kmsg, ttyS0, loop-control, fuse, the host's disk).
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>

#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/devices.hpp"
#include "runtime/launcher/fs_util.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::rt;

namespace {

std::string uniqueParent() {
    std::random_device rd;
    std::ostringstream s;
    s << "tether-test-dev-" << std::hex << rd();
    return s.str();
}

const char* errName(int err) {
    return err == 0 ? "ok" : strerrorname_np(err);
}

/// What a process in `cg` sees: "PATH=result" for each open (read-only, O_NONBLOCK) and
/// "mknod:c MAJ:MIN=result open=result" for a node made in `nodeDir` (a tmpfs without nodev).
std::string probeIn(const Cgroup& cg, const std::vector<std::string>& opens,
                    const std::string& nodeDir, const std::vector<std::pair<int, int>>& nodes) {
    int go[2], out[2];
    REQUIRE(::pipe(go) == 0);
    REQUIRE(::pipe(out) == 0);
    pid_t child = ::fork();
    if (child == 0) {
        char c;
        if (::read(go[0], &c, 1) != 1) ::_exit(1);
        std::string r;
        for (const auto& p : opens) {
            int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
            r += p + "=" + errName(fd >= 0 ? 0 : errno) + " ";
            if (fd >= 0) ::close(fd);
        }
        for (auto [ma, mi] : nodes) {
            std::string node = nodeDir + "/n" + std::to_string(ma) + "_" + std::to_string(mi);
            int rc = ::mknod(node.c_str(), S_IFCHR | 0600, makedev(ma, mi));
            r += "mknod:" + std::to_string(ma) + ":" + std::to_string(mi) + "=" +
                 errName(rc == 0 ? 0 : errno);
            int fd = rc == 0 ? ::open(node.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY) : -1;
            r += std::string(" open=") + (rc != 0 ? "-" : errName(fd >= 0 ? 0 : errno)) + " ";
            if (fd >= 0) ::close(fd);
            ::unlink(node.c_str());
        }
        (void)!::write(out[1], r.data(), r.size());
        ::_exit(0);
    }
    ::close(go[0]);
    ::close(out[1]);
    REQUIRE(cg.addPid(child));
    REQUIRE(::write(go[1], "g", 1) == 1);
    ::close(go[1]);
    std::string r;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0)
        r.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    ::waitpid(child, nullptr, 0);
    return r;
}

/// The checks every enforcement must pass.
void checkDefaultPolicy(const Cgroup& cg, const std::string& nodeDir) {
    std::string r = probeIn(cg, {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/kmsg"}, nodeDir,
                            {{1, 3}, {1, 11}, {4, 64}, {10, 237}, {10, 229}, {1, 9}});
    INFO(r);
    CHECK(r.find("/dev/null=ok ") != std::string::npos);
    CHECK(r.find("/dev/zero=ok ") != std::string::npos);
    CHECK(r.find("/dev/urandom=ok ") != std::string::npos);
    CHECK(r.find("/dev/kmsg=EPERM ") != std::string::npos);
    CHECK(r.find("mknod:1:3=ok open=ok ") != std::string::npos);       // null
    CHECK(r.find("mknod:1:9=ok open=ok ") != std::string::npos);       // urandom
    CHECK(r.find("mknod:1:11=ok open=EPERM ") != std::string::npos);   // kmsg
    CHECK(r.find("mknod:4:64=ok open=EPERM ") != std::string::npos);   // ttyS0
    CHECK(r.find("mknod:10:237=ok open=EPERM ") != std::string::npos); // loop-control
    CHECK(r.find("mknod:10:229=ok open=EPERM ") != std::string::npos); // fuse
}

/// A tmpfs (dev allowed) on a fresh directory, private to this test's mount namespace.
struct NodeDir {
    tether::test::TempDir dir;
    bool ok = ::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=64k") == 0;
    ~NodeDir() { ::umount2(dir.path().c_str(), MNT_DETACH); }
};

/// Moves this test process into a mount namespace of its own (all mounts private), so the
/// cgroup2 mount below is seen by nothing else.
bool privateMountNs() {
    return ::unshare(CLONE_NEWNS) == 0 &&
           ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

} // namespace

TEST_CASE("devices: the program has one block per rule and ends in deny", "[devices]") {
    auto rules = deviceRules({});
    CHECK(rules.size() == 10);
    CHECK(deviceRuleLine(rules[0]) == "c *:* m");
    CHECK(deviceRuleLine(rules[2]) == "c 1:3 rwm");
    CHECK(deviceRuleLine(rules[9]) == "c 136:* rwm");
    auto prog = buildDeviceProgram(rules);
    REQUIRE(prog.size() > 8);
    CHECK(prog.back().code == (BPF_JMP | BPF_EXIT));
    CHECK(prog[prog.size() - 2].imm == 0); // r0 = 0: deny what no rule allowed
    for (size_t i = 0; i < prog.size(); ++i)
        if (prog[i].code == (BPF_JMP | BPF_JNE | BPF_K)) { // every jump lands inside
            CHECK(prog[i].off > 0);
            CHECK(i + 1 + static_cast<size_t>(prog[i].off) < prog.size());
        }
}

TEST_CASE("devices: --device parsing", "[devices]") {
    auto fuse = parseDeviceFlag("/dev/null:/dev/mynull:rw");
    REQUIRE(fuse);
    CHECK(fuse->containerPath == "/dev/mynull");
    CHECK(fuse->access == "rw");
    CHECK(fuse->type == 'c');
    CHECK(fuse->major == 1);
    CHECK(fuse->minor == 3);
    auto same = parseDeviceFlag("/dev/null:r");
    REQUIRE(same);
    CHECK(same->containerPath == "/dev/null");
    CHECK(same->access == "r");
    CHECK(parseDeviceFlag("/dev/null").value().access == "rwm");
    CHECK(parseDeviceFlag("/etc/passwd").error().msg.find("not a character or block device") !=
          std::string::npos);
    CHECK(parseDeviceFlag("dev/null").error().msg.find("--device dev/null") != std::string::npos);
    CHECK(!parseDeviceFlag("/dev/null:/dev/x:rwx"));
    CHECK(!parseDeviceFlag("/dev/null:/dev/../x"));
    CHECK(!parseDeviceFlag("/nonexistent-dev"));
    auto added = deviceRules({*fuse});
    CHECK(deviceRuleLine(added.back()) == "c 1:3 rw");
}

TEST_CASE("devices: the eBPF program loads and is enforced (hybrid's unified tree or v2)",
          "[devices]") {
    auto mode = detectCgroupMode();
    REQUIRE(mode);
    if (*mode == CgroupMode::V1) {
        WARN("no cgroup v2 hierarchy: the v1 test covers this host");
        return;
    }
    REQUIRE(loadDeviceProgram(deviceRules({})));
    NodeDir nodes;
    REQUIRE(nodes.ok);
    std::string parent = uniqueParent();
    auto cg = Cgroup::create("/run/tether-test", parent, "d1", {}, deviceRules({}));
    REQUIRE(cg);
    CHECK(cg->devicePolicy() == "ebpf");
    checkDefaultPolicy(*cg, nodes.dir.path());
    REQUIRE(cg->killAll());
    REQUIRE(cg->remove());
}

TEST_CASE("devices: v1 devices controller (deny a, then the allow list)", "[devices]") {
    auto mode = detectCgroupMode();
    REQUIRE(mode);
    struct stat st {};
    if (*mode == CgroupMode::V2 || ::stat("/sys/fs/cgroup/devices/devices.list", &st) != 0) {
        WARN("no v1 devices controller here");
        return;
    }
    NodeDir nodes;
    REQUIRE(nodes.ok);
    ::setenv("TETHER_DEVICE_POLICY", "devices", 1);
    std::string parent = uniqueParent();
    auto cg = Cgroup::create("/run/tether-test", parent, "d1", {}, deviceRules({}));
    ::unsetenv("TETHER_DEVICE_POLICY");
    REQUIRE(cg);
    CHECK(cg->devicePolicy() == "devices");
    std::string devDir = cg->toJson()["devices"];
    auto list = readFile(devDir + "/devices.list");
    REQUIRE(list);
    CHECK(list->find("c 1:3 rwm") != std::string::npos);
    CHECK(list->find("a *:* rwm") == std::string::npos);
    checkDefaultPolicy(*cg, nodes.dir.path());
    REQUIRE(cg->killAll());
    REQUIRE(cg->remove());
    CHECK(::stat(devDir.c_str(), &st) != 0);
}

TEST_CASE("devices: a pure v2 hierarchy (cgroup2 mounted in a private mount namespace)",
          "[devices]") {
    auto mode = detectCgroupMode();
    REQUIRE(mode);
    if (*mode == CgroupMode::V2) {
        WARN("the host is v2: covered by the eBPF test");
        return;
    }
    REQUIRE(privateMountNs());
    // The same v2 hierarchy as /sys/fs/cgroup/unified, mounted as a v2-only host has it.
    REQUIRE(::mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, nullptr) == 0);
    struct Unmount {
        ~Unmount() { ::umount2("/sys/fs/cgroup", MNT_DETACH); }
    } unmount;
    REQUIRE(detectCgroupMode().value() == CgroupMode::V2);
    NodeDir nodes;
    REQUIRE(nodes.ok);
    std::string parent = uniqueParent();
    auto cg = Cgroup::create("/run/tether-test", parent, "d2", {}, deviceRules({}));
    REQUIRE(cg);
    CHECK(cg->devicePolicy() == "ebpf");
    CHECK(cg->unifiedDir() ==
          "/sys/fs/cgroup/" + parent + "/" + cgroupOwnerTag("/run/tether-test") + "-d2");
    checkDefaultPolicy(*cg, nodes.dir.path());
    REQUIRE(cg->killAll());
    REQUIRE(cg->remove());
    ::rmdir(("/sys/fs/cgroup/" + parent).c_str());
}
