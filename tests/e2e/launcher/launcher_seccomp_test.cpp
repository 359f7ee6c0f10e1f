// seccomp: the built-in allowlist (clone/clone3 namespace flags, io_uring), Docker-format
// profiles from a file, the message when the filter kills, the compiled-filter cache.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "launcher_env.hpp"

using tether::test::LauncherEnv;
namespace fs = std::filesystem;

namespace {
std::string probeVolume() {
    return LauncherEnv::probe() + ":/probe:ro";
}
std::string probe(const LauncherEnv& env, const std::vector<std::string>& opts,
                  const std::string& sc) {
    std::vector<std::string> args = {"-v", probeVolume()};
    args.insert(args.end(), opts.begin(), opts.end());
    args.insert(args.end(), {"--", "/probe", "syscall", sc});
    auto r = env.runNone(args);
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n')
        out.pop_back();
    return out;
}
} // namespace

TEST_CASE("seccomp: new user namespaces by clone, clone3 and unshare, and io_uring, are denied",
          "[launcher][security][seccomp]") {
    LauncherEnv env;
    CHECK(probe(env, {}, "unshare_newuser") == "EPERM");
    CHECK(probe(env, {}, "clone_newuser") == "EPERM");
    CHECK(probe(env, {}, "clone3_newuser") == "ENOSYS"); // libc falls back to clone
    CHECK(probe(env, {}, "clone3") == "ENOSYS");
    CHECK(probe(env, {}, "io_uring_setup") == "EPERM");
    // A plain fork still works (clone without namespace flags).
    CHECK(env.runNone({"--", "sh", "-c", "(true) && echo forked"}).out == "forked\n");
    // With CAP_SYS_ADMIN the profile allows them, as Docker's does.
    CHECK(probe(env, {"--cap-add", "SYS_ADMIN"}, "clone3") == "ok");
    // Unconfined: the kernel itself answers (user namespaces are allowed on this host).
    CHECK(probe(env, {"--security-opt", "seccomp=unconfined"}, "io_uring_setup") != "EPERM");
}

TEST_CASE("seccomp: a Docker-format profile from a file is applied, run and exec",
          "[launcher][security][seccomp]") {
    LauncherEnv env;
    std::string file = env.scratch("deny-mkdir.json");
    std::ofstream(file) << R"({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})";
    auto r = env.runNone({"--security-opt", "seccomp=" + file, "--", "sh", "-c",
                          "mkdir /tmp/x 2>&1; echo rc=$?; touch /tmp/y && echo touched"});
    INFO(r.err);
    CHECK(r.out.find("Permission denied") != std::string::npos); // EACCES = 13
    CHECK(r.out.find("rc=1") != std::string::npos);
    CHECK(r.out.find("touched") != std::string::npos);
    // exec applies the container's own profile
    REQUIRE(env.runNone(
                   {"-d", "--name", "sc", "--security-opt", "seccomp=" + file, "--", "sleep", "30"})
                .exitCode == 0);
    auto ex = env.tether({"exec", "sc", "--", "sh", "-c", "mkdir /tmp/z; echo rc=$?"});
    CHECK(ex.out.find("rc=1") != std::string::npos);
    REQUIRE(env.tether({"rm", "-f", "sc"}).exitCode == 0);
    // containers-common's profile (podman's default) loads and runs a shell
    if (fs::exists("/usr/share/containers/seccomp.json")) {
        auto p = env.runNone({"--security-opt", "seccomp=/usr/share/containers/seccomp.json", "--",
                              "sh", "-c", "echo hi"});
        INFO(p.err);
        CHECK(p.out == "hi\n");
    }
    CHECK(env.leftovers().empty());
}

TEST_CASE("seccomp: bad profiles fail before anything is created; a kill is reported",
          "[launcher][security][seccomp]") {
    LauncherEnv env;
    std::string bad = env.scratch("bad.json");
    std::ofstream(bad) << R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
      "action": "SCMP_ACT_EXPLODE"}]})";
    auto r = env.runNone({"--security-opt", "seccomp=" + bad, "true"});
    CHECK(r.exitCode == 125);
    CHECK(r.err.find("unknown action SCMP_ACT_EXPLODE") != std::string::npos);
    auto missing = env.runNone({"--security-opt", "seccomp=/nonexistent.json", "true"});
    CHECK(missing.exitCode == 125);
    CHECK(env.runNone({"--security-opt", "apparmor=x", "true"}).exitCode == 125);
    CHECK(env.leftovers().empty());

    std::string kill = env.scratch("kill.json");
    std::ofstream(kill) << R"({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}]})";
    auto k = env.runNone({"--security-opt", "seccomp=" + kill, "--", "sh", "-c", "echo $PPID"});
    CHECK(k.exitCode == 128 + 31);
    CHECK(k.err.find("killed by its seccomp filter") != std::string::npos);
    // the compiled filters are cached by content: one file per (profile, capabilities)
    auto cached = [&] {
        size_t n = 0;
        for (const auto& e : fs::directory_iterator(env.libDir() + "/seccomp"))
            n += e.path().extension() == ".bpf";
        return n;
    };
    CHECK(cached() == 1); // kill.json (the bad profiles never compiled)
    CHECK(env.runNone({"true"}).exitCode == 0);
    CHECK(cached() == 2); // + the built-in profile
    CHECK(env.runNone({"true"}).exitCode == 0);
    CHECK(cached() == 2); // read back, not compiled again
}
