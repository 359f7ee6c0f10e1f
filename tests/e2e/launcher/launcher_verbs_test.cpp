// Lifecycle verbs with podman's meanings: stop (grace period, then SIGKILL), wait, logs (-f,
// --tail, --timestamps, rotation), create/start, restart, unpause, --rm -d; ps -a/-q/--format and
// inspect; the files in /etc.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "launcher_env.hpp"

using tether::test::eventually;
using tether::test::LauncherEnv;
using Clock = std::chrono::steady_clock;

TEST_CASE("verbs: stop a PID 1 that ignores TERM: killed after the grace period",
          "[launcher][verbs]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "sh1", "--", "sh", "-c", "while :; do sleep 0.1; done"})
                .exitCode == 0);
    auto t0 = Clock::now();
    auto stop = env.tether({"stop", "-t", "1", "sh1"});
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    INFO(stop.err);
    CHECK(stop.exitCode == 0);
    CHECK(stop.out == "sh1\n");
    CHECK(stop.err.find("killed with SIGKILL") != std::string::npos);
    CHECK(secs >= 1.0);
    CHECK(secs < 2.0); // grace period + 1 s
    auto w = env.tether({"wait", "sh1"});
    CHECK(w.out == "137\n");
    auto ps = env.tether({"ps", "-a"});
    CHECK(ps.out.find("Exited (137)") != std::string::npos);
    CHECK(env.tether({"ps", "-q"}).out.empty()); // not running: only with -a
    CHECK(env.tether({"ps", "-aq"}).out == "sh1\n");
    // A process that handles TERM exits at once with its own status.
    REQUIRE(env.runNone({"-d", "--name", "trap", "--init", "--", "sh", "-c",
                         "trap 'exit 3' TERM; while :; do sleep 0.1; done"})
                .exitCode == 0);
    t0 = Clock::now();
    auto polite = env.tether({"stop", "trap"});
    CHECK(polite.err.empty());
    CHECK(std::chrono::duration<double>(Clock::now() - t0).count() < 2.0);
    CHECK(env.tether({"wait", "trap"}).out == "3\n");
    CHECK(env.tether({"stop", "nosuch"}).exitCode == 125);
    REQUIRE(env.tether({"rm", "sh1", "trap"}).exitCode == 0);
    CHECK(env.leftovers().empty());
}

TEST_CASE("verbs: logs of a detached container: -f, --tail, --timestamps, stderr",
          "[launcher][verbs]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "srv", "--", "sh", "-c",
                         "for i in 1 2 3; do echo line$i; done; echo oops >&2; sleep 0.5; "
                         "echo late; printf partial"})
                .exitCode == 0);
    CHECK(eventually([&] { return env.tether({"logs", "srv"}).out.starts_with("line1\n"); }));
    auto tail = env.tether({"logs", "--tail", "2", "srv"});
    CHECK(tail.out.find("line3\n") != std::string::npos);
    CHECK(tail.out.find("line2") == std::string::npos);
    auto f = env.tether({"logs", "-f", "srv"}, 10); // returns when the container exits
    CHECK(f.exitCode == 0);
    CHECK(f.out == "line1\nline2\nline3\noops\nlate\npartial");
    auto ts = env.tether({"logs", "-t", "srv"});
    REQUIRE(ts.out.size() > 31);
    CHECK(ts.out[4] == '-');
    CHECK(ts.out.find("Z line1\n") != std::string::npos);
    CHECK(env.tether({"wait", "srv"}).out == "0\n");
    REQUIRE(env.tether({"rm", "srv"}).exitCode == 0);
    CHECK(env.leftovers().empty());
}

TEST_CASE("verbs: the log is capped and rotated", "[launcher][verbs]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "big", "--log-opt", "max-size=16k", "--", "sh", "-c",
                         "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done"})
                .exitCode == 0);
    CHECK(env.tether({"wait", "big"}).out == "0\n");
    namespace fs = std::filesystem;
    std::string log = env.stateDir() + "/big/container.log";
    CHECK(fs::file_size(log) <= 16 * 1024);
    CHECK(fs::file_size(log + ".1") <= 16 * 1024);
    auto out = env.tether({"logs", "big"}).out;
    CHECK(out.ends_with("line-1999\n"));
    CHECK(out.find("line-0\n") == std::string::npos); // rotated away
    REQUIRE(env.tether({"rm", "big"}).exitCode == 0);
}

TEST_CASE("verbs: create + start, restart, unpause, --rm -d", "[launcher][verbs]") {
    LauncherEnv env;
    auto cr = env.tether(
        {"create", "--net", "none", "--name", "made", "--", "sh", "-c", "echo run-$$; sleep 100"});
    INFO(cr.err);
    REQUIRE(cr.exitCode == 0);
    CHECK(cr.out == "made\n");
    CHECK(env.tether({"inspect", "made"}).json()["state"]["status"] == "created");
    CHECK(env.tether({"ps", "-a"}).out.find("Created") != std::string::npos);
    // gc keeps a created container: it has no process yet, and start runs it.
    auto gc = env.tether({"gc"});
    CHECK(gc.out.find("made") == std::string::npos);
    CHECK(env.tether({"inspect", "made"}).json()["state"]["status"] == "created");
    REQUIRE(env.tether({"start", "made"}).exitCode == 0);
    CHECK(env.tether({"inspect", "made"}).json()["state"]["status"] == "running");
    REQUIRE(env.tether({"pause", "made"}).exitCode == 0);
    REQUIRE(env.tether({"unpause", "made"}).exitCode == 0);
    CHECK(env.tether({"inspect", "made"}).json()["state"]["status"] == "running");
    int pid1 = env.tether({"inspect", "made"}).json()["state"]["pid"];
    REQUIRE(env.tether({"restart", "-t", "0", "made"}).exitCode == 0);
    auto again = env.tether({"inspect", "made"}).json();
    CHECK(again["state"]["status"] == "running");
    CHECK(again["state"]["pid"].get<int>() != pid1);
    CHECK(eventually([&] {
        auto l = env.tether({"logs", "made"}).out;
        return l == "run-1\nrun-1\n";
    }));
    REQUIRE(env.tether({"rm", "-f", "made"}).exitCode == 0);
    // --rm with -d: the state goes when the container exits.
    REQUIRE(env.runNone({"-d", "--rm", "--name", "gone", "--", "sleep", "0.2"}).exitCode == 0);
    // (inspect fails once state.json is gone; the rest of the state dir goes a moment later)
    CHECK(eventually([&] {
        return env.tether({"inspect", "gone"}).exitCode != 0 && env.leftovers().empty();
    }));
    for (const auto& l : env.leftovers())
        UNSCOPED_INFO(l);
    CHECK(env.leftovers().empty());
}

TEST_CASE("verbs: inspect shows names, times, capabilities; ps --format json",
          "[launcher][verbs]") {
    LauncherEnv env;
    REQUIRE(
        env.runNone({"-d", "--name", "i1", "--cap-drop", "CHOWN", "--", "sleep", "100"}).exitCode ==
        0);
    auto j = env.tether({"inspect", "i1"}).json();
    auto caps = j["capabilities"].get<std::vector<std::string>>();
    CHECK(std::find(caps.begin(), caps.end(), "CAP_NET_BIND_SERVICE") != caps.end());
    CHECK(std::find(caps.begin(), caps.end(), "CAP_CHOWN") == caps.end());
    std::string created = j["createdAt"];
    CHECK(created.size() == 20);
    CHECK(created[10] == 'T');
    CHECK(created.back() == 'Z');
    CHECK(j["state"]["running"] == true);
    CHECK(j["state"]["oomKilled"] == false);
    auto ps = env.tether({"ps", "--format", "json"}).json();
    REQUIRE(ps.size() == 1);
    CHECK(ps[0]["id"] == "i1");
    CHECK(ps[0]["status"] == "running");
    CHECK(env.tether({"ps", "--format", "yaml"}).exitCode == 125);
    REQUIRE(env.tether({"rm", "-f", "i1"}).exitCode == 0);
}

TEST_CASE("files: /etc/hostname, /etc/hosts with the own name, --add-host, --dns",
          "[launcher][files]") {
    LauncherEnv env;
    auto r = env.runNone({"--name", "named", "--hostname", "web1", "--add-host", "db:10.1.2.3",
                          "--dns", "192.0.2.53", "--dns-search", "example.test", "--", "sh", "-c",
                          "cat /etc/hostname; grep -c web1 /etc/hosts; grep db /etc/hosts; "
                          "ping -c1 -W1 web1 >/dev/null && echo self-resolves; "
                          "grep -v '^#' /etc/resolv.conf"});
    INFO(r.err);
    CHECK(r.exitCode == 0);
    CHECK(r.out == "web1\n1\n10.1.2.3\tdb\nself-resolves\nnameserver 192.0.2.53\n"
                   "search example.test\n");
    auto def = env.runNone({"--", "cat", "/etc/resolv.conf"});
    CHECK(def.out.find("1.1.1.1") == std::string::npos); // no silent public fallback
    auto ro = env.runNone({"--read-only", "--", "cat", "/etc/hostname"});
    CHECK(ro.exitCode == 0);
    CHECK(ro.out.size() == 13);
    CHECK(env.leftovers().empty());
}
