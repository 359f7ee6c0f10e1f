// Crash consistency of the launcher (docs/reliability.md): `tether run` (the supervisor) of a
// container on a bridge(ipMasq)+host-local+portmap network is SIGKILLed at a random time — while
// it sets up the cgroup, mounts, netns and CNI ADD, or while the container runs — alone or with
// its whole process group (the plugins it is running included). `tether gc` must then leave no
// state dir, cgroup, mount, pinned netns, host veth, lease, cache file or nft element of ours.
// TETHER_LAUNCHER_KILLS sets the number of kills (default 30).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "launcher_env.hpp"

using tether::test::eventually;
using tether::test::execHere;
using tether::test::LauncherEnv;
namespace fs = std::filesystem;

namespace {

void writeNetwork(const LauncherEnv& env) {
    fs::create_directories(env.scratch("net.d"));
    nlohmann::json list = {{"cniVersion", "1.1.0"},
                           {"name", "crashrun"},
                           {"plugins",
                            {{{"type", "bridge"},
                              {"bridge", "crrun0"},
                              {"isGateway", true},
                              {"ipMasq", true},
                              {"ipam",
                               {{"type", "host-local"},
                                {"dataDir", env.scratch("ipam")},
                                {"ranges", {{{{"subnet", "10.76.0.0/24"}}}}}}}},
                             {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}}}}};
    std::ofstream(env.scratch("net.d") + "/crashrun.conflist") << list.dump(2);
}

/// Starts argv in a new session (its pid is its process group) with stdio on /dev/null.
pid_t spawn(const std::vector<std::string>& argv) {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        int fd = ::open("/dev/null", O_RDWR);
        ::dup2(fd, 0);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

/// What is left of ours besides LauncherEnv::leftovers(): host veths, leases, cache files, nft.
std::vector<std::string> netLeftovers(const LauncherEnv& env) {
    std::vector<std::string> out;
    auto veths = execHere({"sh", "-c", "ip -o link show type veth | wc -l"}).out;
    if (veths != "0\n") out.push_back("host veths: " + veths);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(env.scratch("ipam") + "/crashrun", ec)) {
        auto f = e.path().filename().string();
        if (!f.empty() && std::isdigit(static_cast<unsigned char>(f[0])))
            out.push_back("lease " + f);
    }
    for (const auto& e : fs::directory_iterator(env.scratch("cni-cache") + "/results", ec))
        out.push_back("cache " + e.path().filename().string());
    auto nft = execHere({"sh", "-c", "nft list ruleset 2>/dev/null | grep -c crashrun/"}).out;
    if (nft != "0\n") out.push_back("nft lines tagged crashrun/: " + nft);
    return out;
}

int killCount() {
    const char* v = std::getenv("TETHER_LAUNCHER_KILLS");
    return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : 30;
}

} // namespace

TEST_CASE("crash: SIGKILL of tether run at any time, then tether gc, leaves nothing",
          "[crash][launcher]") {
    LauncherEnv env;
    writeNetwork(env);
    // How long a start takes here: random kills are spread over half of that (the
    // start; a run --rm also tears down).
    auto t0 = std::chrono::steady_clock::now();
    auto warm = env.tether({"run", "--rm", "--net", "crashrun", "--", "true"});
    INFO(warm.err);
    REQUIRE(warm.exitCode == 0);
    const auto startMs =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    REQUIRE(netLeftovers(env).empty());

    std::mt19937 rng(std::random_device{}());
    const int kills = killCount();
    int whileRunning = 0;
    for (int i = 0; i < kills; ++i) {
        const bool group = i % 2 == 1;
        const std::string name = "crash" + std::to_string(i);
        pid_t pid = spawn(env.tetherArgv({"run", "--name", name, "--net", "crashrun", "-p",
                                          std::to_string(31000 + i) + ":80", "--", "sleep", "30"}));
        REQUIRE(pid > 0);
        int delay = static_cast<int>(rng() % static_cast<unsigned>(startMs / 2 + 10));
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == 0) {
            ::kill(group ? -pid : pid, SIGKILL);
            ::waitpid(pid, &st, 0);
        }
        if (env.tether({"inspect", name}).exitCode == 0) ++whileRunning;
        auto gc = env.tether({"gc"});
        INFO("kill " << i << " after " << delay << " ms (" << (group ? "group" : "supervisor")
                     << "): gc said " << gc.out << gc.err);
        CHECK(gc.exitCode == 0);
        CHECK(
            // the container dies with its supervisor a moment after the kill (the watcher kills
            // its cgroup); gc keeps a container while it still runs, so it is repeated
            eventually(
                [&] {
                    (void)env.tether({"gc"});
                    return env.leftovers().empty() && netLeftovers(env).empty();
                },
                8000));
        const auto left = env.leftovers();
        const auto netLeft = netLeftovers(env);
        std::string leftText;
        for (const auto& l : left)
            leftText += l + "; ";
        for (const auto& l : netLeft)
            leftText += l + "; ";
        INFO("left behind: " << leftText);
        CHECK(left.empty());
        CHECK(netLeft.empty());
    }
    WARN(kills << " kills of tether run, " << whileRunning << " after the container was recorded");
    execHere({"ip", "link", "del", "crrun0"});
}
