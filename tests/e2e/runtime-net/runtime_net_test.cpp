// Runtime list execution observed from the plugins' side (a recording plugin) and with the
// reference plugins: order, prevResult, runtimeConfig, cache, DEL after a failed ADD, GC.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "base/digest.hpp"
#include "libcni/net_ops.hpp"
#include "libcni/result_cache.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::rt;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Recorded {
    test::TempDir dir;
    test::TempDir plugins;
    test::TempDir cache;
    Recorded() { fs::create_symlink(RECORDER, plugins.path() / "recorder"); }
    NetPaths paths() const {
        return {.configDir = "/nonexistent", .cniPath = plugins.path(), .cacheDir = cache.path()};
    }
    std::vector<json> log() const {
        std::vector<json> out;
        std::ifstream in(dir / "log.jsonl");
        for (std::string line; std::getline(in, line);)
            out.push_back(json::parse(line));
        return out;
    }
    NetworkList list(const std::string& version, const std::string& failAt = "") const {
        json entries = json::array();
        for (std::string label : {"a", "b", "c"}) {
            json p = {{"type", "recorder"}, {"label", label}, {"recordDir", dir.path().string()}};
            if (label == "b") p["capabilities"] = {{"portMappings", true}, {"mac", true}};
            if (label == failAt) p["failOn"] = "ADD";
            entries.push_back(p);
        }
        json l = {{"cniVersion", version}, {"name", "rec"}, {"plugins", entries}};
        return *parseNetworkList(l.dump(), "rec.conflist");
    }
};

RuntimeConf conf(const std::string& id) {
    return {.containerId = id,
            .netns = "/var/run/netns/x",
            .ifname = "eth0",
            .args = {{"IgnoreUnknown", "1"}, {"K8S_POD_NAME", "p"}},
            .capabilityArgs = {{"portMappings", json::array({{{"hostPort", 8080}}})}}};
}

} // namespace

TEST_CASE("ADD chains prevResult, DEL runs in reverse with the cached result", "[runtime]") {
    Recorded r;
    auto list = r.list("1.0.0");
    auto result = addNetwork(r.paths(), list, conf("c1"));
    REQUIRE(result);
    CHECK((*result)["interfaces"].size() == 3);
    auto log = r.log();
    REQUIRE(log.size() == 3);
    CHECK(log[0]["label"] == "a");
    CHECK(!log[0]["stdin"].contains("prevResult"));
    CHECK(log[1]["stdin"]["prevResult"]["interfaces"][0]["name"] == "a");
    CHECK(log[1]["stdin"]["runtimeConfig"] ==
          json{{"portMappings", json::array({{{"hostPort", 8080}}})}});
    CHECK(!log[0]["stdin"].contains("runtimeConfig"));
    CHECK(log[1]["stdin"]["capabilities"]["portMappings"] == true);
    CHECK(log[1]["stdin"]["name"] == "rec");
    CHECK(log[1]["stdin"]["cniVersion"] == "1.0.0");
    CHECK(log[0]["env"]["CNI_ARGS"] == "IgnoreUnknown=1;K8S_POD_NAME=p");
    CHECK(log[0]["env"]["CNI_IFNAME"] == "eth0");
    CHECK(fs::exists(cachePath(r.cache.path(), "rec", "c1", "eth0")));

    REQUIRE(checkNetwork(r.paths(), list, conf("c1")));
    REQUIRE(delNetwork(r.paths(), list, conf("c1")));
    log = r.log();
    REQUIRE(log.size() == 9);
    CHECK(log[3]["command"] == "CHECK");
    CHECK(log[3]["label"] == "a");
    CHECK(log[3]["stdin"]["prevResult"] == *result);
    CHECK(log[6]["command"] == "DEL");
    CHECK(log[6]["label"] == "c");
    CHECK(log[8]["label"] == "a");
    CHECK(log[8]["stdin"]["prevResult"] == *result);
    CHECK(!fs::exists(cachePath(r.cache.path(), "rec", "c1", "eth0")));
}

TEST_CASE("a failed ADD is followed by DEL of the whole list and nothing is cached", "[runtime]") {
    Recorded r;
    auto add = addNetwork(r.paths(), r.list("1.0.0", "b"), conf("c2"));
    REQUIRE(!add);
    CHECK(add.error().msg.find("plugin type=\"recorder\" name=\"rec\" failed (add)") !=
          std::string::npos);
    CHECK(add.error().msg.find("recorder b told to fail") != std::string::npos);
    auto log = r.log();
    REQUIRE(log.size() == 5);
    CHECK(log[2]["command"] == "DEL");
    CHECK(log[2]["label"] == "c");
    CHECK(log[4]["label"] == "a");
    CHECK(!log[4]["stdin"].contains("prevResult"));
    CHECK(!fs::exists(cachePath(r.cache.path(), "rec", "c2", "eth0")));
}

TEST_CASE("CHECK is refused before 0.4.0 and DEL passes no prevResult there", "[runtime]") {
    Recorded r;
    auto list = r.list("0.3.1");
    REQUIRE(addNetwork(r.paths(), list, conf("c3")));
    auto check = checkNetwork(r.paths(), list, conf("c3"));
    REQUIRE(!check);
    CHECK(check.error().msg.find("does not support the CHECK command") != std::string::npos);
    REQUIRE(delNetwork(r.paths(), list, conf("c3")));
    CHECK(!r.log().back()["stdin"].contains("prevResult"));
}

TEST_CASE("GC deletes orphaned cached attachments, then sends valid attachments", "[runtime]") {
    Recorded r;
    auto list = r.list("1.1.0");
    REQUIRE(addNetwork(r.paths(), list, conf("keep")));
    REQUIRE(addNetwork(r.paths(), list, conf("orphan")));
    REQUIRE(gcNetwork(r.paths(), list, {{"keep", "eth0"}}));
    auto log = r.log();
    std::vector<json> dels, gcs;
    for (const auto& e : log) {
        if (e["command"] == "DEL") dels.push_back(e);
        if (e["command"] == "GC") gcs.push_back(e);
    }
    REQUIRE(dels.size() == 3);
    CHECK(dels[0]["env"]["CNI_CONTAINERID"] == "orphan");
    REQUIRE(gcs.size() == 3);
    json valid = json::array({{{"containerID", "keep"}, {"ifname", "eth0"}}});
    CHECK(gcs[0]["stdin"]["cni.dev/valid-attachments"] == valid);
    CHECK(gcs[0]["stdin"]["cni.dev/attachments"] == valid);
    CHECK(!gcs[0]["env"].contains("CNI_CONTAINERID"));
    CHECK(fs::exists(cachePath(r.cache.path(), "rec", "keep", "eth0")));
    CHECK(!fs::exists(cachePath(r.cache.path(), "rec", "orphan", "eth0")));
}

TEST_CASE("a cache entry written by libcni drives our DEL", "[runtime]") {
    Recorded r;
    auto list = r.list("1.0.0");
    json result = {{"cniVersion", "1.0.0"},
                   {"interfaces", json::array({{{"name", "from-libcni"}}})}};
    fs::create_directories(r.cache.path() / "results");
    std::ofstream(r.cache / "results/rec-ext-eth0") << json{
        {"kind", "cniCacheV1"},
        {"containerId", "ext"},
        {"config", base64Encode(list.bytes)},
        {"ifName", "eth0"},
        {"networkName", "rec"},
        {"netns", "/var/run/netns/x"},
        {"cniArgs", json::array()},
        {"capabilityArgs", json::object()},
        {"result", result}}.dump();
    REQUIRE(delNetwork(r.paths(), list, conf("ext")));
    CHECK(r.log().back()["stdin"]["prevResult"] == result);
    CHECK(!fs::exists(r.cache / "results/rec-ext-eth0"));
}

TEST_CASE("tether net drives our bridge and host-local from a config dir", "[runtime][cli]") {
    test::TempDir conf, cache, data;
    test::ScratchNetns c;
    std::ofstream(conf / "10-n.conflist")
        << json{{"cniVersion", "1.0.0"},
                {"name", "n"},
                {"plugins", json::array({{{"type", "bridge"},
                                          {"bridge", "trt0"},
                                          {"isGateway", true},
                                          {"ipam",
                                           {{"type", "host-local"},
                                            {"subnet", "10.46.0.0/24"},
                                            {"dataDir", data.path().string()}}}}})}}
               .dump();
    ::setenv("NETCONFPATH", conf.path().c_str(), 1);
    ::setenv("CNI_CACHE_DIR", cache.path().c_str(), 1);
    ::setenv("CNI_PATH", test::binDir().c_str(), 1);
    std::string tether = test::binDir() + "/tether";
    auto add = test::execHere({tether, "net", "add", "n", c.path(), "--id", "cli1"});
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    CHECK(add.json()["ips"][0]["address"] == "10.46.0.2/24");
    CHECK(c.exec({"ip", "-4", "-o", "addr", "show", "eth0"}).out.find("10.46.0.2/24") !=
          std::string::npos);
    CHECK(test::execHere({tether, "net", "check", "n", c.path(), "--id", "cli1"}).exitCode == 0);
    auto ls = test::execHere({tether, "net", "ls", "--json"});
    CHECK(ls.json()["attachments"][0]["containerId"] == "cli1");
    CHECK(test::execHere({tether, "net", "del", "n", c.path(), "--id", "cli1"}).exitCode == 0);
    CHECK(c.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
    auto missing = test::execHere({tether, "net", "add", "nope", c.path(), "--json"});
    CHECK(missing.exitCode == 1);
    CHECK(missing.json()["code"] == 7);
    CHECK(test::execHere({tether, "net", "add"}).exitCode == 2);
    ::unsetenv("NETCONFPATH");
    ::unsetenv("CNI_CACHE_DIR");
    ::unsetenv("CNI_PATH");
}

TEST_CASE("the runtime drives the reference plugins (bridge, host-local, portmap)",
          "[runtime][reference]") {
    if (!fs::exists("/usr/lib/cni/portmap")) FAIL("reference plugins missing in /usr/lib/cni");
    test::TempDir conf, cache, data;
    test::ScratchNetns c;
    json list = {{"cniVersion", "1.0.0"},
                 {"name", "ref"},
                 {"plugins", json::array({{{"type", "bridge"},
                                           {"bridge", "tref0"},
                                           {"isGateway", true},
                                           {"ipam",
                                            {{"type", "host-local"},
                                             {"subnet", "10.47.0.0/24"},
                                             {"dataDir", data.path().string()}}}},
                                          {{"type", "portmap"},
                                           {"capabilities", {{"portMappings", true}}}}})}};
    std::ofstream(conf / "ref.conflist") << list.dump();
    NetPaths paths{.configDir = conf.path(), .cniPath = "/usr/lib/cni", .cacheDir = cache.path()};
    auto l = resolveNetwork(paths, "ref");
    REQUIRE(l);
    RuntimeConf rt{
        .containerId = "refc",
        .netns = c.path(),
        .ifname = "eth0",
        .capabilityArgs = {
            {"portMappings",
             json::array({{{"hostPort", 18080}, {"containerPort", 80}, {"protocol", "tcp"}}})}}};
    auto add = addNetwork(paths, *l, rt);
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    CHECK((*add)["ips"][0]["address"] == "10.47.0.2/24");
    // No CHECK here: the installed reference portmap (1.1.1) fails its own CHECK on IPv4-only
    // attachments ("could not check ipv6 dnat").
    CHECK(test::execHere({"iptables-save", "-t", "nat"}).out.find("18080") != std::string::npos);
    REQUIRE(delNetwork(paths, *l, rt));
    CHECK(test::execHere({"iptables-save", "-t", "nat"}).out.find("18080") == std::string::npos);
    CHECK(c.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
}

TEST_CASE("gc --all: plugins that stop before the list's cniVersion are skipped, not failed",
          "[runtime][reference][gc]") {
    if (!fs::exists("/usr/lib/cni/bridge")) FAIL("reference plugins missing in /usr/lib/cni");
    test::TempDir conf, cache;
    std::string tether = test::binDir() + "/tether";
    auto gcAll = [&](const std::string& cniPath) {
        return test::execHere({"env", "NETCONFPATH=" + conf.path().string(),
                               "CNI_CACHE_DIR=" + cache.path().string(), "CNI_PATH=" + cniPath,
                               tether, "net", "gc", "--all"});
    };
    // The built-in default network is 1.1.0; the installed reference plugins support up to
    // 1.0.0, so no ADD of it can have succeeded with them and there is nothing to collect.
    auto ref = gcAll("/usr/lib/cni");
    INFO(ref.out << ref.err);
    CHECK(ref.exitCode == 0);
    CHECK(ref.out.find("network default: plugin bridge does not support cniVersion 1.1.0") !=
          std::string::npos);
    // Ours support 1.1.0: the plugins get their GC (a "default" of our own, so that the test's
    // leases are private): host-local releases a lease no valid attachment holds.
    test::TempDir data;
    std::ofstream(conf / "default.conflist")
        << json{{"cniVersion", "1.1.0"},
                {"name", "default"},
                {"plugins", json::array({{{"type", "bridge"},
                                          {"bridge", "tgc0"},
                                          {"ipam",
                                           {{"type", "host-local"},
                                            {"subnet", "10.48.0.0/24"},
                                            {"dataDir", data.path().string()}}}}})}}
               .dump();
    fs::create_directories(data.path() / "default");
    std::ofstream(data.path() / "default" / "10.48.0.9") << "gone-container\r\neth0";
    auto ours = gcAll(test::binDir());
    INFO(ours.out << ours.err);
    CHECK(ours.exitCode == 0);
    CHECK(ours.out.find("network default: 0 stale attachment(s) removed, 0 kept") !=
          std::string::npos);
    CHECK(!fs::exists(data.path() / "default" / "10.48.0.9"));
}
