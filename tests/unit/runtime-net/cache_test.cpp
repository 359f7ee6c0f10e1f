// The result cache in libcni's layout: round trip, a hand-written libcni entry, legacy format.
#include <sys/stat.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "base/digest.hpp"
#include "libcni/result_cache.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::rt;
using nlohmann::json;

TEST_CASE("cache entries round trip in libcni's format", "[cache]") {
    test::TempDir d;
    auto l =
        parseNetworkList(R"({"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"x"}]})", "f");
    REQUIRE(l);
    RuntimeConf rt{.containerId = "c1",
                   .netns = "/run/netns/c1",
                   .ifname = "eth0",
                   .args = {{"IgnoreUnknown", "1"}},
                   .capabilityArgs = {{"mac", "aa:bb:cc:dd:ee:ff"}}};
    json result = {{"cniVersion", "1.0.0"}, {"ips", json::array({{{"address", "10.0.0.2/24"}}})}};
    REQUIRE(writeCache(d.path(), *l, rt, result));
    std::string path = cachePath(d.path(), "net1", "c1", "eth0");
    CHECK(path == d.path().string() + "/results/net1-c1-eth0");
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(stat((d.path() / "results").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    json onDisk = json::parse(std::ifstream(path));
    CHECK(onDisk["kind"] == "cniCacheV1");
    CHECK(base64Decode(onDisk["config"].get<std::string>()) == l->bytes);
    CHECK(onDisk["cniArgs"] == json::array({json::array({"IgnoreUnknown", "1"})}));

    auto back = readCache(d.path(), "net1", "c1", "eth0");
    REQUIRE(back);
    REQUIRE(*back);
    CHECK((*back)->netns == "/run/netns/c1");
    CHECK((*back)->result == result);
    CHECK((*back)->rt.capabilityArgs["mac"] == "aa:bb:cc:dd:ee:ff");
    CHECK(listCache(d.path(), "net1").size() == 1);
    removeCache(d.path(), "net1", "c1", "eth0");
    CHECK(!*readCache(d.path(), "net1", "c1", "eth0"));
}

TEST_CASE("an entry written by libcni is read; so is the legacy bare result", "[cache]") {
    test::TempDir d;
    std::filesystem::create_directories(d.path() / "results");
    // As Go's encoding/json writes libcni's cachedInfo ([]byte config as base64).
    std::ofstream(d / "results/n-abc-eth1")
        << R"({"kind":"cniCacheV1","containerId":"abc","config":")"
        << base64Encode("{\"name\":\"n\"}")
        << R"(","ifName":"eth1","networkName":"n","netns":"/proc/1/ns/net","cniArgs":[["K8S_POD_NAME","p"]],"capabilityArgs":{"portMappings":[]},"result":{"cniVersion":"1.0.0"}})";
    auto a = readCache(d.path(), "n", "abc", "eth1");
    REQUIRE(a);
    REQUIRE(*a);
    CHECK((*a)->config == "{\"name\":\"n\"}");
    CHECK((*a)->rt.args.at(0).first == "K8S_POD_NAME");
    std::ofstream(d / "results/n-old-eth0") << R"({"cniVersion":"0.4.0","ips":[]})";
    auto legacy = readCache(d.path(), "n", "old", "eth0");
    REQUIRE(legacy);
    REQUIRE((*legacy)->result);
    CHECK((*(*legacy)->result)["cniVersion"] == "0.4.0");
}

TEST_CASE("base64 matches Go's standard encoding", "[cache]") {
    CHECK(base64Encode("") == "");
    CHECK(base64Encode("f") == "Zg==");
    CHECK(base64Encode("fo") == "Zm8=");
    CHECK(base64Encode("foobar") == "Zm9vYmFy");
    CHECK(base64Decode("Zm9vYg==") == "foob");
    CHECK(!base64Decode("**"));
    CHECK(!base64Decode("Zg")); // Go's StdEncoding requires the padding
    CHECK(base64Decode("Zg==") == "f");
}
