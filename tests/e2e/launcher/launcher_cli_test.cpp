// The command line as a podman user types it: options before the command, everything after it
// untouched, typos refused with a suggestion, usage errors exit 125, limits validated before
// anything exists; -e NAME, --env-file, -u NAME from the rootfs, exec -u/-w/-e.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "launcher_env.hpp"

using tether::test::LauncherEnv;

TEST_CASE("cli: a misspelled flag is refused with a suggestion, exit 125", "[launcher][cli]") {
    LauncherEnv env;
    auto r = env.runNone({"--memroy", "64m", "echo", "ran"});
    CHECK(r.exitCode == 125);
    CHECK(r.out.empty()); // nothing ran
    CHECK(r.err.find("unknown flag: --memroy") != std::string::npos);
    CHECK(r.err.find("did you mean --memory?") != std::string::npos);
    auto verb = env.tether({"stopp", "x"});
    CHECK(verb.exitCode == 125);
    CHECK(verb.err.find("unknown command \"stopp\"") != std::string::npos);
    CHECK(verb.err.find("did you mean stop?") != std::string::npos);
    auto noValue = env.runNone({"--memory"});
    CHECK(noValue.exitCode == 125);
    CHECK(noValue.err.find("--memory needs a value") != std::string::npos);
    CHECK(env.tether({"ps", "--bogus"}).exitCode == 125);
    CHECK(env.tether({"stop", "--time", "x", "c"}).exitCode == 125);
    CHECK(env.leftovers().empty());
}

TEST_CASE("cli: everything from the command on is the command's", "[launcher][cli]") {
    LauncherEnv env;
    auto r = env.runNone({"echo", "--memory", "-it", "--", "x"});
    INFO(r.err);
    CHECK(r.exitCode == 0);
    CHECK(r.out == "--memory -it -- x\n");
    auto dashed = env.runNone({"-e", "A=1", "--", "sh", "-c", "echo $A"});
    CHECK(dashed.out == "1\n");
    auto clustered = env.runNone({"-ie", "B=2", "sh", "-c", "echo $B"});
    CHECK(clustered.out == "2\n");
    auto help = env.tether({"run", "--help"});
    CHECK(help.exitCode == 0);
    CHECK(help.out.find("--stop-timeout") != std::string::npos);
    CHECK(env.runNone({}).exitCode == 125); // no command
}

TEST_CASE("cli: limits and names are validated before anything is created", "[launcher][cli]") {
    LauncherEnv env;
    long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
    const std::vector<std::vector<std::string>> bad = {
        {"--cpus", "0"},
        {"--cpus", std::to_string(ncpu + 1)},
        {"--pids", "-5"},
        {"--memory", "1k"},
        {"--memory", "lots"},
        {"--cpu-shares", "1"},
        {"--hostname", "a/b"},
        {"--hostname", "a\nb"},
        {"--stop-timeout", "-1"},
        {"-e", "=x"},
        {"-e", ""},
        {"-p", "70000:80"},
        {"-p", "8080-8082:80-81"},
        {"--add-host", "name:not-an-ip"},
        {"--dns", "8.8.8"},
        {"--mac-address", "zz:00:00:00:00:00"},
        {"-u", "nosuchuser"},
        {"-u", "root:nosuchgroup"},
        {"--stop-signal", "SIGNOPE"},
    };
    for (const auto& flags : bad) {
        std::vector<std::string> args = flags;
        args.push_back("true");
        auto r = env.runNone(args);
        INFO(flags[0] << " " << flags[1] << ": " << r.err);
        CHECK(r.exitCode == 125);
        CHECK(r.err.find(flags[0]) != std::string::npos); // the message names the flag
    }
    CHECK(env.leftovers().empty());
}

TEST_CASE("cli: -e NAME, --env-file, -u NAME[:GROUP], exec -e/-w/-u", "[launcher][cli]") {
    LauncherEnv env;
    std::string file = env.scratch("env.list");
    std::ofstream(file) << "# comment\n\nFROM_FILE=yes\nSPACED=a b\n";
    auto r = env.tether({"run", "--net", "none", "-e", "FROM_CALLER", "-e", "UNSET_ONE",
                         "--env-file", file, "--", "sh", "-c",
                         "echo $FROM_CALLER $FROM_FILE \"$SPACED\" ${UNSET_ONE-unset}"},
                        60, {"FROM_CALLER=hello"});
    INFO(r.err);
    CHECK(r.out == "hello yes a b unset\n");
    auto u = env.runNone({"-u", "nobody", "--", "sh", "-c", "id -u; id -g"});
    CHECK(u.out == "65534\n65534\n");
    auto ug = env.runNone({"-u", "nobody:root", "--", "sh", "-c", "id -u; id -g"});
    CHECK(ug.out == "65534\n0\n");
    REQUIRE(env.runNone({"-d", "--name", "ex", "--", "sleep", "100"}).exitCode == 0);
    auto ex = env.tether({"exec", "-u", "nobody", "-w", "/tmp", "-e", "X=1", "ex", "sh", "-c",
                          "id -u; pwd; echo $X"});
    INFO(ex.err);
    CHECK(ex.out == "65534\n/tmp\n1\n");
    CHECK(env.tether({"exec", "--bogus", "ex", "true"}).exitCode == 125);
    REQUIRE(env.tether({"rm", "-f", "ex"}).exitCode == 0);
    CHECK(env.leftovers().empty());
}
