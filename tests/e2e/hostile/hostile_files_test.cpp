// Names and files an attacker (or an accident) puts where the plugins expect ordinary ones: a
// container ID of a kilobyte, a FIFO as the IPAM lock, /dev/zero or a directory as resolv.conf, a
// mount namespace as CNI_NETNS, and an IPAM config that fails only after the bridge has started.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json hostLocal(const TempDir& data, json extra = json::object()) {
    json ipam = {{"type", "host-local"},
                 {"dataDir", data.path().string()},
                 {"ranges", json::array({json::array({{{"subnet", "10.9.0.0/29"}}})})}};
    ipam.update(extra);
    return {{"cniVersion", "1.0.0"}, {"name", "net1"}, {"type", "bridge"}, {"ipam", ipam}};
}

PluginRun run(const std::string& plugin, const std::string& command, const std::string& netns,
              const json& conf, const std::string& containerId = "c1") {
    return runPlugin(binDir() + "/" + plugin, command,
                     {{"CNI_CONTAINERID", containerId},
                      {"CNI_NETNS", netns},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", binDir()}},
                     conf.dump());
}

size_t entriesIn(const fs::path& dir) {
    std::error_code ec;
    size_t n = 0;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it)
        ++n;
    return n;
}

std::string msgOf(const PluginRun& r) {
    return r.json && r.json->contains("msg") ? r.json->at("msg").get<std::string>() : "";
}

} // namespace

TEST_CASE("a container ID longer than 128 bytes is refused before any lease is written") {
    ScratchNetns ns;
    TempDir data;
    std::string longId(1024, 'a');
    auto r = run("host-local", "ADD", ns.path(), hostLocal(data), longId);
    INFO(r.out << r.err);
    CHECK(r.exitCode != 0);
    REQUIRE(r.json);
    CHECK(r.json->at("code") == 4);
    CHECK(msgOf(r).find("containerID is too long") != std::string::npos);
    CHECK(entriesIn(data.path()) == 0);
    // 128 bytes still works, and DEL of it leaves the network's dir without leases.
    std::string maxId(128, 'b');
    auto ok = run("host-local", "ADD", ns.path(), hostLocal(data), maxId);
    INFO(ok.out << ok.err);
    REQUIRE(ok.exitCode == 0);
    CHECK(fs::exists(data.path() / "net1" / "10.9.0.2"));
    // A second ADD of the same attachment is refused, as the reference does, and takes nothing.
    auto again = run("host-local", "ADD", ns.path(), hostLocal(data), maxId);
    CHECK(again.exitCode != 0);
    CHECK(msgOf(again).find("duplicate allocation") != std::string::npos);
    CHECK(!fs::exists(data.path() / "net1" / "10.9.0.3"));
    CHECK(run("host-local", "DEL", ns.path(), hostLocal(data), maxId).exitCode == 0);
    CHECK(!fs::exists(data.path() / "net1" / "10.9.0.2"));
}

TEST_CASE("a FIFO planted as the IPAM lock is an error, not a hang") {
    ScratchNetns ns;
    TempDir data;
    fs::create_directories(data.path() / "net1");
    REQUIRE(::mkfifo((data.path() / "net1" / "lock").c_str(), 0600) == 0);
    for (std::string command : {"ADD", "DEL", "CHECK"}) {
        INFO(command);
        auto r = run("host-local", command, ns.path(), hostLocal(data)); // FAILs after 60 s
        CHECK(r.exitCode != 0);
        CHECK(msgOf(r).find("not a regular file") != std::string::npos);
    }
    CHECK(!fs::exists(data.path() / "net1" / "10.9.0.2"));
}

TEST_CASE("resolvConf naming /dev/zero or a directory is a bounded, clear error") {
    ScratchNetns ns;
    TempDir data;
    TempDir dir;
    for (std::string path : {std::string("/dev/zero"), dir.path().string()}) {
        INFO(path);
        auto r = run("host-local", "ADD", ns.path(), hostLocal(data, {{"resolvConf", path}}));
        CHECK(r.exitCode != 0);
        CHECK(msgOf(r).find("resolvConf") != std::string::npos);
        CHECK(!fs::exists(data.path() / "net1" / "10.9.0.2"));
    }
    TempDir big;
    {
        std::string huge(200 * 1024, '#');
        FILE* f = std::fopen((big.path() / "resolv.conf").c_str(), "w");
        REQUIRE(f);
        std::fwrite(huge.data(), 1, huge.size(), f);
        std::fclose(f);
    }
    auto r = run("host-local", "ADD", ns.path(),
                 hostLocal(data, {{"resolvConf", (big.path() / "resolv.conf").string()}}));
    CHECK(r.exitCode != 0);
    CHECK(msgOf(r).find("resolvConf") != std::string::npos);
}

TEST_CASE("CNI_NETNS naming a namespace of another type is refused with code 8") {
    TempDir data;
    for (std::string path : {"/proc/self/ns/mnt", "/proc/self/ns/pid", "/proc/self/ns/uts"}) {
        for (std::string plugin : {"bridge", "veth", "loopback"}) {
            INFO(plugin << " " << path);
            auto r = run(plugin, "ADD", path, hostLocal(data));
            CHECK(r.exitCode != 0);
            REQUIRE(r.json);
            CHECK(r.json->at("code") == 8);
            CHECK(msgOf(r).find("not a network namespace") != std::string::npos);
        }
    }
    CHECK(entriesIn(data.path()) == 0);
}

TEST_CASE("bridge and veth with an invalid IPAM config create no link at all") {
    // The plugins run inside `host` (a scratch namespace standing in for the host).
    ScratchNetns host;
    ScratchNetns container;
    TempDir data;
    json bad = hostLocal(data);
    bad["bridge"] = "hbr0";
    bad["ipam"]["ranges"] = json::array({json::array({{{"subnet", "10.9.0.0/33"}}})});
    auto linksIn = [](const ScratchNetns& ns) {
        return ns.exec({"ip", "-j", "link", "show"}).json().size();
    };
    size_t hostBefore = linksIn(host);
    size_t containerBefore = linksIn(container);
    for (std::string plugin : {"bridge", "veth"}) {
        INFO(plugin);
        json conf = bad;
        conf["type"] = plugin;
        auto r = host.run([&] { return run(plugin, "ADD", container.path(), conf); });
        INFO(r.out << r.err);
        CHECK(r.exitCode != 0);
        REQUIRE(r.json);
        CHECK(r.json->at("code") == 7);
        CHECK(msgOf(r).find("10.9.0.0/33") != std::string::npos);
        CHECK(linksIn(host) == hostBefore);
        CHECK(linksIn(container) == containerBefore);
    }
    CHECK(entriesIn(data.path()) == 0);
}
