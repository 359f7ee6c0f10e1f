// Regression tests for container escapes through what the launcher leaves in the container:
// inherited fds, the --init process (its fds, filter, ptrace, environment).
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "launcher_env.hpp"

using tether::test::execHere;
using tether::test::LauncherEnv;
namespace fs = std::filesystem;

namespace {
std::string probeVolume() {
    return LauncherEnv::probe() + ":/probe:ro";
}
std::string lastLine(const std::string& out) {
    std::string s = out;
    while (!s.empty() && s.back() == '\n')
        s.pop_back();
    auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
}
} // namespace

TEST_CASE("escape: no fd of the launcher or its caller reaches the container, --init included",
          "[launcher][security][escape]") {
    LauncherEnv env;
    std::string marker = env.scratch("host-only-marker");
    std::ofstream(marker) << "x";
    for (bool init : {false, true}) {
        INFO("--init " << init);
        // The caller passes a directory fd (7) and a pipe-like file fd (8) without CLOEXEC.
        std::vector<std::string> args = {"run", "--net", "none", "-v", probeVolume()};
        if (init) args.push_back("--init");
        args.insert(args.end(), {"--", "/probe", "fds", marker});
        std::vector<std::string> argv = {"sh", "-c", "exec 7</ 8>>\"$0\"; exec \"$@\"",
                                         env.scratch("caller-file")};
        for (const auto& a : env.tetherArgv(args))
            argv.push_back(a);
        auto r = execHere(argv);
        INFO(r.out << r.err);
        REQUIRE(r.exitCode == 0);
        CHECK(lastLine(r.out) == "contained");
        CHECK(r.out.find("fd ") == std::string::npos); // no process has any fd >= 3
    }
}

TEST_CASE("escape: the issue's attack through /proc/1/fd/3 of --init fails",
          "[launcher][security][escape]") {
    LauncherEnv env;
    std::string target = env.scratch("written-from-container");
    auto r = env.runNone({"--init", "--", "sh", "-c",
                          "ls /proc/1/fd/; for f in /proc/1/fd/*; do echo x > "
                          "$f/../../../../../../../.." +
                              target + " 2>/dev/null; done; true"});
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 0);
    CHECK(!fs::exists(target));
    CHECK(r.out.find('3') == std::string::npos); // only 0 1 2 (and no /proc/1/fd/3)
}

TEST_CASE("escape: --init is filtered, undumpable, has no launcher environment",
          "[launcher][security][escape]") {
    LauncherEnv env;
    auto r = env.tether({"run", "--net", "none", "--init", "-v", probeVolume(), "--", "sh", "-c",
                         "grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/1/status; "
                         "tr '\\0' '\\n' < /proc/1/environ | grep -c . ; "
                         "tr '\\0' ' ' < /proc/1/cmdline; echo; /probe syscall ptrace_init"},
                        60, {"TETHER_SECRET_FOR_TEST=leaked"});
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 0);
    CHECK(r.out.find("Seccomp:\t2") != std::string::npos);
    CHECK(r.out.find("NoNewPrivs:\t1") != std::string::npos);
    CHECK(r.out.find("CapEff:\t00000000a80425fb") != std::string::npos); // Docker's 14
    CHECK(r.out.find("leaked") == std::string::npos);
    CHECK(r.out.find("TETHER_STATE_DIR") == std::string::npos);
    CHECK(r.out.find(env.stateDir()) == std::string::npos);
    CHECK(lastLine(r.out) == "EPERM");
}
