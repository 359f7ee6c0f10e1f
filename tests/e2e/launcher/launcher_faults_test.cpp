// Lifecycle faults of issue 15, each reproduced: gc of one instance vs another's containers and
// the fixture registry, exec into a paused container, zombies taken for running processes, a
// PID 1 that dropped privileges outliving its killed supervisor.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "launcher_env.hpp"

using tether::test::eventually;
using tether::test::LauncherEnv;
namespace fs = std::filesystem;

namespace {

char procState(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = s.rfind(')');
    return close == std::string::npos || close + 2 >= s.size() ? '-' : s[close + 2];
}

bool gone(pid_t pid) {
    char st = procState(pid);
    return st == '-' || st == 'Z';
}

/// Makes this test process the subreaper of the detached supervisors it starts, so their
/// corpses stay zombies until reaped (as under conmon, containerd-shim, tini, systemd --user).
struct Subreaper {
    Subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
    ~Subreaper() {
        ::prctl(PR_SET_CHILD_SUBREAPER, 0);
        for (int i = 0; i < 100; ++i) {
            while (::waitpid(-1, nullptr, WNOHANG) > 0) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
};

} // namespace

TEST_CASE("faults: gc of one instance leaves another instance's containers alone",
          "[launcher][lifecycle][faults]") {
    LauncherEnv env;
    // Instance B: its own state dir, the same cgroup parent as instance A (env).
    std::vector<std::string> b = {"TETHER_STATE_DIR=" + env.scratch("state-b")};
    auto run =
        env.tether({"run", "-d", "--net", "none", "--name", "other", "--", "sleep", "100"}, 60, b);
    INFO(run.err);
    REQUIRE(run.exitCode == 0);
    auto before = env.tether({"inspect", "other"}, 60, b).json();
    REQUIRE(before["status"] == "running");
    auto gc = env.tether({"gc"}); // instance A: knows nothing of "other"
    INFO(gc.out);
    CHECK(gc.out.find("other") == std::string::npos);
    auto after = env.tether({"inspect", "other"}, 60, b).json();
    CHECK(after["status"] == "running");
    CHECK(!gone(after["pid"].get<pid_t>()));
    // B's own gc keeps it (it is alive), B's rm removes it.
    CHECK(env.tether({"gc"}, 60, b).out.find("other") == std::string::npos);
    REQUIRE(env.tether({"rm", "-f", "other"}, 60, b).exitCode == 0);
    CHECK(env.leftovers().empty());
}

TEST_CASE("faults: gc removes only state dirs run made, never the fixture registry",
          "[launcher][lifecycle][faults]") {
    LauncherEnv env;
    fs::create_directories(env.stateDir() + "/fixtures/lab1/ipam");
    std::ofstream(env.stateDir() + "/fixtures/lab1/topology.json") << "{}";
    fs::create_directories(env.stateDir() + "/notes");
    // What a launcher killed right after creating its state dir leaves: the mark, no state.
    fs::create_directories(env.stateDir() + "/crashed");
    std::ofstream(env.stateDir() + "/crashed/.tether-container");
    // ... and one killed while it was still making it (before the rename into place); a ".new-"
    // dir without the mark is not ours.
    fs::create_directories(env.stateDir() + "/.new-half-4242");
    std::ofstream(env.stateDir() + "/.new-half-4242/.tether-container");
    fs::create_directories(env.stateDir() + "/.new-foreign");
    std::this_thread::sleep_for(std::chrono::milliseconds(5500)); // gc spares young dirs
    auto gc = env.tether({"gc"});
    INFO(gc.out << gc.err);
    CHECK(gc.out.find("removed container crashed (no state)") != std::string::npos);
    CHECK(gc.out.find("fixtures") == std::string::npos);
    CHECK(fs::exists(env.stateDir() + "/fixtures/lab1/topology.json"));
    CHECK(fs::exists(env.stateDir() + "/notes"));
    CHECK(!fs::exists(env.stateDir() + "/crashed"));
    CHECK(gc.out.find("removed .new-half-4242") != std::string::npos);
    CHECK(!fs::exists(env.stateDir() + "/.new-half-4242"));
    CHECK(fs::exists(env.stateDir() + "/.new-foreign"));
    fs::remove_all(env.stateDir() + "/.new-foreign");
    fs::remove_all(env.stateDir() + "/fixtures");
    fs::remove_all(env.stateDir() + "/notes");
}

TEST_CASE("faults: exec into a paused container is refused at once",
          "[launcher][lifecycle][faults]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "frozen", "--", "sleep", "100"}).exitCode == 0);
    REQUIRE(env.tether({"pause", "frozen"}).exitCode == 0);
    auto t0 = std::chrono::steady_clock::now();
    auto ex = env.tether({"exec", "frozen", "--", "true"}, 20);
    auto took = std::chrono::steady_clock::now() - t0;
    INFO(ex.err);
    CHECK(ex.exitCode == 125);
    CHECK(ex.err.find("container frozen is paused, unpause it first") != std::string::npos);
    CHECK(took < std::chrono::seconds(5));
    REQUIRE(env.tether({"unpause", "frozen"}).exitCode == 0);
    CHECK(env.tether({"exec", "frozen", "--", "true"}).exitCode == 0);
    REQUIRE(env.tether({"rm", "-f", "frozen"}).exitCode == 0);
    CHECK(env.leftovers().empty());
}

TEST_CASE("faults: a zombie container is not running, for ps and for gc",
          "[launcher][lifecycle][faults]") {
    LauncherEnv env;
    Subreaper reaper;
    REQUIRE(env.runNone({"-d", "--name", "zomb", "--", "sleep", "100"}).exitCode == 0);
    auto st = env.tether({"inspect", "zomb"}).json();
    pid_t sup = st["supervisorPid"], pid = st["pid"];
    // The supervisor cannot reap while stopped: PID 1 stays a zombie.
    REQUIRE(::kill(sup, SIGSTOP) == 0);
    REQUIRE(::kill(pid, SIGKILL) == 0);
    REQUIRE(eventually([&] { return procState(pid) == 'Z'; }));
    CHECK(env.tether({"inspect", "zomb"}).json()["status"] == "exited");
    CHECK(env.tether({"ps", "-a"}).out.find("Up ") == std::string::npos);
    // Now the supervisor dies too, and nobody reaps either (we are their subreaper).
    REQUIRE(::kill(sup, SIGKILL) == 0);
    REQUIRE(eventually([&] { return procState(sup) == 'Z'; }));
    auto gc = env.tether({"gc"});
    INFO(gc.out << gc.err);
    CHECK(gc.out.find("removed container zomb") != std::string::npos);
    CHECK(env.leftovers().empty());
}

TEST_CASE("faults: a PID 1 that dropped privileges dies with its killed supervisor",
          "[launcher][lifecycle][faults]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "gosu", "-v", LauncherEnv::probe() + ":/probe:ro", "--",
                         "/probe", "dropuid", "65534"})
                .exitCode == 0);
    // The gosu pattern really cleared PID 1's parent-death signal.
    REQUIRE(eventually([&] {
        return env.tether({"logs", "gosu"}).out.find("pdeathsig=0") != std::string::npos;
    }));
    auto st = env.tether({"inspect", "gosu"}).json();
    pid_t sup = st["supervisorPid"], pid = st["pid"];
    REQUIRE(!gone(pid));
    REQUIRE(::kill(sup, SIGKILL) == 0);
    CHECK(eventually([&] { return gone(pid); }, 3000));
    CHECK(env.tether({"inspect", "gosu"}).json()["status"] == "dead");
    auto gc = env.tether({"gc"});
    CHECK(gc.out.find("removed container gosu") != std::string::npos);
    CHECK(env.leftovers().empty());
}
