// Detached containers: ps, inspect, exec, kill, pause/resume, rm, gc after a crash.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "launcher_env.hpp"

using tether::test::eventually;
using tether::test::LauncherEnv;

namespace {
size_t lines(const std::string& path) {
    std::ifstream in(path);
    return static_cast<size_t>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
}
} // namespace

TEST_CASE("lifecycle: detached container with ps, inspect, exec, kill, rm",
          "[launcher][lifecycle]") {
    LauncherEnv env;
    auto d = env.runNone({"-d", "--name", "c1", "--hostname", "web", "--", "sh", "-c",
                          "while true; do sleep 0.1; done"});
    INFO(d.err);
    REQUIRE(d.exitCode == 0);
    CHECK(d.out == "c1\n");
    auto ps = env.tether({"ps"});
    CHECK(ps.out.find("c1") != std::string::npos);
    CHECK(ps.out.find("Up ") != std::string::npos);
    auto inspect = env.tether({"inspect", "c1"}).json();
    CHECK(inspect["status"] == "running");
    CHECK(inspect["pid"].get<int>() > 0);
    auto ex = env.tether({"exec", "c1", "--", "sh", "-c", "hostname; ps -o pid= | wc -l; exit 5"});
    CHECK(ex.exitCode == 5);
    CHECK(ex.out.starts_with("web\n"));
    CHECK(env.tether({"exec", "c1", "--", "/bin/nope"}).exitCode == 127);
    CHECK(env.tether({"rm", "c1"}).exitCode != 0); // running
    REQUIRE(env.tether({"kill", "c1", "KILL"}).exitCode == 0);
    CHECK(eventually([&] { return env.tether({"inspect", "c1"}).json()["status"] == "exited"; }));
    auto exited = env.tether({"inspect", "c1"}).json();
    CHECK(exited["exitCode"] == 137);
    REQUIRE(env.tether({"rm", "c1"}).exitCode == 0);
    CHECK(env.tether({"inspect", "c1"}).exitCode != 0);
    CHECK(env.leftovers().empty());
}

TEST_CASE("lifecycle: pause stops output, resume continues it", "[launcher][lifecycle]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "tick", "--", "sh", "-c",
                         "while true; do echo t; sleep 0.05; done"})
                .exitCode == 0);
    std::string log = env.stateDir() + "/tick/container.log";
    REQUIRE(eventually([&] { return lines(log) > 2; }));
    REQUIRE(env.tether({"pause", "tick"}).exitCode == 0);
    CHECK(env.tether({"inspect", "tick"}).json()["status"] == "paused");
    size_t frozen = lines(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    CHECK(lines(log) == frozen);
    REQUIRE(env.tether({"resume", "tick"}).exitCode == 0);
    CHECK(eventually([&] { return lines(log) > frozen + 2; }));
    REQUIRE(env.tether({"rm", "-f", "tick"}).exitCode == 0);
    CHECK(env.leftovers().empty());
}

TEST_CASE("lifecycle: rm -f of a paused container removes everything", "[launcher][lifecycle]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "p", "--", "sleep", "100"}).exitCode == 0);
    REQUIRE(env.tether({"pause", "p"}).exitCode == 0);
    REQUIRE(env.tether({"rm", "-f", "p"}).exitCode == 0);
    CHECK(env.leftovers().empty());
}

TEST_CASE("lifecycle: gc cleans up after a crashed supervisor", "[launcher][lifecycle]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "crash", "--", "sleep", "100"}).exitCode == 0);
    auto st = env.tether({"inspect", "crash"}).json();
    pid_t sup = st["supervisorPid"], pid = st["pid"];
    ::kill(sup, SIGKILL);
    ::kill(pid, SIGKILL);
    REQUIRE(eventually([&] {
        return env.tether({"inspect", "crash"}).json()["status"] == "dead"; // not "running"
    }));
    CHECK(!env.leftovers().empty());
    auto gc = env.tether({"gc"});
    CHECK(gc.out.find("removed container crash") != std::string::npos);
    CHECK(env.leftovers().empty());
}

TEST_CASE("lifecycle: --pid and --ipc container: share namespaces", "[launcher][lifecycle]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "base", "--", "sleep", "100"}).exitCode == 0);
    auto r = env.runNone({"--pid", "container:base", "--ipc", "container:base", "--", "sh", "-c",
                          "ps -o comm= | grep -c sleep"});
    INFO(r.err);
    CHECK(r.out == "1\n");
    auto host = env.runNone({"--pid", "host", "--", "sh", "-c", "test $$ -ne 1 && echo shared"});
    CHECK(host.out == "shared\n");
    REQUIRE(env.tether({"rm", "-f", "base"}).exitCode == 0);
    CHECK(env.leftovers().empty());
}

TEST_CASE("lifecycle: gc removes cgroups whose state is lost", "[launcher][lifecycle]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "lost", "--", "sleep", "100"}).exitCode == 0);
    auto st = env.tether({"inspect", "lost"}).json();
    pid_t sup = st["supervisorPid"], pid = st["pid"];
    ::kill(sup, SIGKILL);
    ::kill(pid, SIGKILL);
    std::filesystem::remove_all(env.stateDir() + "/lost");
    REQUIRE(!env.leftovers().empty()); // the cgroup
    auto gc = env.tether({"gc"});
    CHECK(gc.out.find("removed cgroup lost") != std::string::npos);
    CHECK(env.leftovers().empty());
}

TEST_CASE("lifecycle: kill refuses signal numbers beyond the signals", "[launcher][lifecycle]") {
    LauncherEnv env;
    // Used to abort the CLI (std::stoi out_of_range) before the container was even looked up.
    for (const char* sig : {"99999999999", "65", "999"}) {
        auto k = env.tether({"kill", "nosuch", sig});
        INFO(sig << ": " << k.err);
        CHECK(k.exitCode == 125);
        CHECK(k.err.find(std::string("unknown signal ") + sig) != std::string::npos);
    }
}
