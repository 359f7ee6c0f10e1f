// The launcher's cgroup handling against the real hierarchy of this machine (v1, hybrid or v2):
// limits land in the kernel's files, processes are placed, frozen, killed, and nothing remains.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/fs_util.hpp"

using namespace tether::rt;

namespace {
std::string uniqueParent() {
    std::random_device rd;
    std::ostringstream s;
    s << "tether-test-cg-" << std::hex << rd();
    return s.str();
}
std::string slurp(const std::string& p) {
    auto r = readFile(p);
    return r ? *r : "";
}
bool exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}
} // namespace

TEST_CASE("cgroup: mode detection matches the mounts", "[cgroup]") {
    auto mode = detectCgroupMode();
    REQUIRE(mode);
    bool unified = exists("/sys/fs/cgroup/cgroup.controllers");
    if (unified)
        CHECK(*mode == CgroupMode::V2);
    else
        CHECK(*mode != CgroupMode::V2);
}

TEST_CASE("cgroup: limits are written, a process is placed, frozen, killed, removed", "[cgroup]") {
    std::string parent = uniqueParent();
    CgroupLimits limits;
    limits.memoryBytes = 64 << 20;
    limits.pids = 7;
    limits.cpus = 0.5;
    limits.cpuShares = 512;
    auto cg = Cgroup::create("/run/tether-test", parent, "c1", limits, deviceRules({}));
    REQUIRE(cg);
    auto mode = *detectCgroupMode();
    auto j = cg->toJson();
    if (mode == CgroupMode::V2) {
        CHECK(slurp(j["memory"].get<std::string>() + "/memory.max") == "67108864\n");
        CHECK(slurp(j["cpu"].get<std::string>() + "/cpu.max") == "50000 100000\n");
    } else {
        CHECK(slurp(j["memory"].get<std::string>() + "/memory.limit_in_bytes") == "67108864\n");
        CHECK(slurp(j["cpu"].get<std::string>() + "/cpu.cfs_quota_us") == "50000\n");
        CHECK(slurp(j["cpu"].get<std::string>() + "/cpu.shares") == "512\n");
    }
    CHECK(slurp(j["pids"].get<std::string>() + "/pids.max") == "7\n");

    CHECK(Cgroup::create("/run/tether-test", parent, "c1", {}, deviceRules({})).error().code ==
          tether::Code::Conflict);

    pid_t child = ::fork();
    if (child == 0) {
        for (;;)
            ::pause();
    }
    REQUIRE(cg->addPid(child));
    CHECK(cg->pids() == std::vector<pid_t>{child});
    REQUIRE(cg->setFrozen(true));
    CHECK(cg->frozen());
    REQUIRE(cg->setFrozen(false));
    CHECK(!cg->frozen());
    REQUIRE(cg->killAll());
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    CHECK(!cg->oomKilled());
    REQUIRE(cg->remove());
    for (const auto& d : cg->dirs())
        CHECK(!exists(d));
    CHECK(Cgroup::listUnder("/run/tether-test", parent).empty());
    CHECK(cg->remove()); // idempotent
}

TEST_CASE("cgroup: a limit the kernel rejects fails with no directory left", "[cgroup]") {
    std::string parent = uniqueParent();
    CgroupLimits limits;
    limits.memoryBytes = 64 << 20;
    limits.pids = -5; // rejected by the kernel
    auto cg = Cgroup::create("/run/tether-test", parent, "bad", limits, deviceRules({}));
    REQUIRE(!cg);
    CHECK(cg.error().msg.find("pids.max=-5") != std::string::npos);
    CHECK(Cgroup::listUnder("/run/tether-test", parent).empty());
}
