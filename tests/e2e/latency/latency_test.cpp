// The helper process and the switches of libnet/latency.hpp, observed as a container runtime
// would: bridge(ipMasq) + host-local ADD/DEL from a caller that reads the plugin's output to EOF,
// (1) under an ordinary parent, (2) under a child subreaper that never reaps strangers (the
// shape of a runtime or shim that only waits for its own children), (3) with every mechanism
// switched off. Nothing may pile up as a zombie, and the container's view is the same each way.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;
using Env = std::vector<std::pair<std::string, std::string>>;

namespace {

struct Child {
    pid_t pid = 0;
    char state = '?';
    std::string comm;
};

/// Our direct children, zombies included, from /proc/<pid>/stat.
std::vector<Child> children() {
    std::vector<Child> out;
    DIR* d = ::opendir("/proc");
    REQUIRE(d);
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
        std::string line;
        if (!std::getline(in, line)) continue;
        auto open = line.find('('), close = line.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        Child c{std::stoi(e->d_name), line[close + 2], line.substr(open + 1, close - open - 1)};
        pid_t ppid = std::stoi(line.substr(close + 4));
        if (ppid == ::getpid()) out.push_back(c);
    }
    ::closedir(d);
    return out;
}

bool helperListening() {
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const char name[] = "tether/helper-v2";
    std::memcpy(addr.sun_path + 1, name, sizeof(name) - 1);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr),
                        socklen_t(offsetof(sockaddr_un, sun_path) + sizeof(name))) == 0;
    ::close(fd);
    return ok;
}

struct Node {
    ScratchNetns host;
    ScratchNetns container;
    TempDir data;
    json conf = {{"cniVersion", "1.0.0"},
                 {"name", "lat"},
                 {"type", "bridge"},
                 {"bridge", "latbr0"},
                 {"isGateway", true},
                 {"ipMasq", true},
                 {"ipam",
                  {{"type", "host-local"},
                   {"dataDir", data.path().string()},
                   {"ranges", json::array({json::array({{{"subnet", "10.77.0.0/24"}}})})}}}};

    PluginRun call(const std::string& command, const std::string& id, const Env& extra = {}) {
        Env env = {{"CNI_CONTAINERID", id},
                   {"CNI_NETNS", container.path()},
                   {"CNI_IFNAME", "eth0"},
                   {"CNI_PATH", binDir()}};
        env.insert(env.end(), extra.begin(), extra.end());
        return host.run([&] { return runPlugin(binDir() + "/bridge", command, env, conf.dump()); });
    }

    /// ADD, check the address inside the container, DEL, check it is gone; `rounds` times.
    void churn(int rounds, const Env& extra = {}) {
        for (int i = 0; i < rounds; ++i) {
            std::string id = "lat" + std::to_string(i);
            auto add = call("ADD", id, extra);
            INFO(add.out << add.err);
            REQUIRE(add.exitCode == 0);
            auto addr = container.exec({"ip", "-j", "-4", "addr", "show", "eth0"}).json();
            REQUIRE(addr.size() == 1);
            std::string cidr = add.json->at("ips")[0]["address"];
            CHECK(addr[0]["addr_info"][0]["local"] == cidr.substr(0, cidr.find('/')));
            auto del = call("DEL", id, extra);
            INFO(del.out << del.err);
            REQUIRE(del.exitCode == 0);
            CHECK(container.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
        }
    }
};

bool waitFor(auto pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

} // namespace

TEST_CASE("under an ordinary parent the helper goes away by itself once idle", "[latency]") {
    Node node;
    node.churn(5);
    CHECK(children().empty()); // the helper was re-parented to init, never ours
    CHECK(node.host.run([] { return waitFor([] { return !helperListening(); }); }));
}

TEST_CASE("under a subreaper that reaps nobody, 50 ADD+DEL leave no zombie", "[latency]") {
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    Node node;
    node.churn(50);
    // Give any detached process the time to finish and exit.
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    auto kids = children();
    int zombies = 0;
    for (const auto& c : kids) {
        INFO("child " << c.pid << " " << c.comm << " " << c.state);
        zombies += c.state == 'Z';
        CHECK(c.comm == "tether-helper");
    }
    CHECK(zombies == 0);
    CHECK(kids.size() <= 1); // one helper, adopted, idle: it stays while we live
    CHECK(node.host.run([] { return helperListening(); }) == !kids.empty());
    // The helper is ours now (we adopted it): end it by PID and reap it.
    for (const auto& c : kids) {
        ::kill(c.pid, SIGKILL);
        int status = 0;
        ::waitpid(c.pid, &status, 0);
    }
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 0) == 0);
}

TEST_CASE("with every mechanism switched off the plugins work and leave no process", "[latency]") {
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    Node node;
    Env off = {{"TETHER_IPAM_OVERLAP", "0"},
               {"TETHER_DETACHED_DELETE", "off"},
               {"TETHER_NF_HOLDER", "false"}};
    node.churn(10, off);
    CHECK(children().empty());
    CHECK_FALSE(node.host.run([] { return helperListening(); }));
    // Nothing of the attachments is left: no lease, no veth on the host side.
    for (int i = 2; i < 255; ++i)
        CHECK_FALSE(
            std::filesystem::exists(node.data.path() / "lat" / ("10.77.0." + std::to_string(i))));
    auto links = node.host.exec({"ip", "-j", "link", "show", "type", "veth"}).json();
    CHECK(links.empty());
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 0) == 0);
}
