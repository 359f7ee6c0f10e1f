// The skeleton as a real process: stdin/stdout/exit codes, and the CNI_NETNS checks against real
// network namespaces (this binary runs in a scratch netns; the target is another one).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;

namespace {

/// A child process sitting in a fresh network namespace; killed on destruction.
class OtherNetns {
  public:
    OtherNetns() {
        pid_ = fork();
        if (pid_ == 0) {
            if (unshare(CLONE_NEWNET) != 0) _exit(1);
            pause();
            _exit(0);
        }
        REQUIRE(pid_ > 0);
        // Wait until the child has left our netns.
        for (int i = 0; i < 500 && linkOf(path()) == linkOf("/proc/self/ns/net"); ++i)
            usleep(2000);
        REQUIRE(linkOf(path()) != linkOf("/proc/self/ns/net"));
    }
    ~OtherNetns() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    [[nodiscard]] std::string path() const { return "/proc/" + std::to_string(pid_) + "/ns/net"; }

  private:
    static std::string linkOf(const std::string& p) {
        char buf[64] = {};
        ssize_t n = readlink(p.c_str(), buf, sizeof buf - 1);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    }
    pid_t pid_ = -1;
};

using Env = std::vector<std::pair<std::string, std::string>>;

Env attachEnv(const std::string& netns) {
    return {{"CNI_CONTAINERID", "ctr1"},
            {"CNI_NETNS", netns},
            {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", "/nonexistent"}};
}

std::string conf(const std::string& version, const std::string& extra = "") {
    return R"({"cniVersion":")" + version + R"(","name":"e2e","type":"cni_skel_plugin")" + extra +
           "}";
}

std::string readFile(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("ADD in another netns prints the result in each config version") {
    OtherNetns ns;
    for (std::string v : {"0.2.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        auto env = attachEnv(ns.path());
        env.emplace_back("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.5.0.9/16");
        auto r = runPlugin(SKEL_PLUGIN, "ADD", env, conf(v));
        INFO(r.out << r.err);
        REQUIRE(r.exitCode == 0);
        REQUIRE(r.json);
        CHECK((*r.json)["cniVersion"] == v);
        if (v == "0.2.0") {
            CHECK((*r.json)["ip4"]["ip"] == "10.5.0.9/16");
        } else {
            CHECK((*r.json)["interfaces"][0]["sandbox"] == ns.path());
            CHECK((*r.json)["ips"][0]["address"] == "10.5.0.9/16");
            CHECK((*r.json)["ips"][0].contains("version") == (v == "0.3.1" || v == "0.4.0"));
        }
    }
}

TEST_CASE("a chained ADD passes prevResult through") {
    OtherNetns ns;
    auto prev = R"(,"prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"br0"}],
        "ips":[{"address":"10.1.0.2/24","interface":0}],"dns":{"nameservers":["10.1.0.1"]}})";
    auto r = runPlugin(SKEL_PLUGIN, "ADD", attachEnv(ns.path()), conf("1.0.0", prev));
    INFO(r.out);
    REQUIRE(r.exitCode == 0);
    CHECK((*r.json)["interfaces"].size() == 2);
    CHECK((*r.json)["ips"][1]["interface"] == 1);
    CHECK((*r.json)["dns"]["nameservers"][0] == "10.1.0.1");
}

TEST_CASE("errors are JSON on stdout with exit code 1") {
    OtherNetns ns;
    auto env = attachEnv(ns.path());
    env.emplace_back("CNI_ARGS", "FOO=bar");
    auto r = runPlugin(SKEL_PLUGIN, "ADD", env, conf("1.0.0"));
    CHECK(r.exitCode == 1);
    REQUIRE(r.json);
    CHECK((*r.json)["code"] == 4);
    CHECK((*r.json)["msg"] == "ARGS: unknown args [\"FOO=bar\"]");
    CHECK((*r.json)["cniVersion"] == "1.0.0");

    auto bad = runPlugin(SKEL_PLUGIN, "ADD", attachEnv(ns.path()), "{");
    CHECK(bad.exitCode == 1);
    CHECK((*bad.json)["code"] == 6);

    std::string big = conf("1.0.0", ",\"pad\":\"" + std::string(5 << 20, 'x') + "\"");
    auto huge = runPlugin(SKEL_PLUGIN, "ADD", attachEnv(ns.path()), big);
    CHECK(huge.exitCode == 1);
    CHECK((*huge.json)["code"] == 5);
}

TEST_CASE("no command prints the about text; VERSION needs nothing else") {
    auto about = runPlugin(SKEL_PLUGIN, "", {}, "");
    CHECK(about.exitCode == 0);
    CHECK(about.out.empty());
    CHECK(about.err.starts_with("tether test plugin\nCNI protocol versions supported: 0.1.0"));

    auto v = runPlugin(SKEL_PLUGIN, "VERSION", {}, R"({"cniVersion":"0.3.1"})");
    CHECK(v.exitCode == 0);
    REQUIRE(v.json);
    CHECK((*v.json)["cniVersion"] == "0.3.1");
    CHECK((*v.json)["supportedVersions"].size() == 7);
}

TEST_CASE("CNI_NETNS pointing at our own netns or at a non-netns is refused") {
    TempDir dir;
    std::string rec = dir / "record";
    std::string extra = R"(,"record":")" + rec + "\"";
    for (std::string cmd : {"ADD", "CHECK", "DEL"}) {
        auto own =
            runPlugin(SKEL_PLUGIN, cmd, attachEnv("/proc/self/ns/net"), conf("1.0.0", extra));
        CHECK(own.exitCode == 1);
        CHECK((*own.json)["code"] == 8);
        auto notNs =
            runPlugin(SKEL_PLUGIN, cmd, attachEnv(dir.path().string()), conf("1.0.0", extra));
        CHECK((*notNs.json)["code"] == 8);
    }
    CHECK(readFile(rec).empty()); // no handler ran

    auto gone = runPlugin(SKEL_PLUGIN, "DEL", attachEnv(dir / "vanished"), conf("1.0.0", extra));
    CHECK(gone.exitCode == 0);
    auto override = attachEnv("/proc/self/ns/net");
    override.emplace_back("CNI_NETNS_OVERRIDE", "true");
    CHECK(runPlugin(SKEL_PLUGIN, "DEL", override, conf("1.0.0", extra)).exitCode == 0);
    OtherNetns ns;
    CHECK(runPlugin(SKEL_PLUGIN, "CHECK", attachEnv(ns.path()), conf("1.0.0", extra)).exitCode ==
          0);
    CHECK(readFile(rec) == "DEL ctr1 eth0 " + (dir / "vanished") +
                               "\nDEL ctr1 eth0 /proc/self/ns/net\nCHECK ctr1 eth0 " + ns.path() +
                               "\n");
}
