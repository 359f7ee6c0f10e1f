// Config loading, version negotiation and the stdin each plugin gets, without executing anything.
#include <fstream>

#include <catch2/catch.hpp>

#include "base/digest.hpp"
#include "libcni/list_exec.hpp"
#include "libcni/netconf.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::rt;
using nlohmann::json;

namespace {
void write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}
} // namespace

TEST_CASE("conflists load sorted, legacy confs are upgraded, first name wins", "[netconf]") {
    test::TempDir d;
    write(d / "20-b.conflist",
          R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"bridge"}]})");
    write(d / "10-a.conflist", R"({"cniVersion":"0.4.0","name":"a","plugins":[{"type":"ptp"}]})");
    write(d / "30-dup.conflist", R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"x"}]})");
    write(d / "05-legacy.conf",
          R"({"cniVersion":"0.3.1","name":"old","type":"bridge","bridge":"b0"})");
    write(d / "99-bad.conflist", R"({"name": "bad", )");
    std::vector<std::string> problems;
    auto lists = loadNetworks(d.path(), &problems);
    REQUIRE(lists.size() == 3);
    CHECK(lists[0].name == "a");
    CHECK(lists[0].plugins[0]["type"] == "ptp");
    CHECK(lists[1].name == "b");
    CHECK(lists[2].name == "old");
    CHECK(lists[2].cniVersion == "0.3.1");
    CHECK(lists[2].plugins[0]["bridge"] == "b0");
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].find("duplicate network name \"a\"") != std::string::npos);
    CHECK(problems[1].find("99-bad.conflist: parse error at byte") != std::string::npos);
}

TEST_CASE("the highest supported of cniVersion and cniVersions is chosen", "[netconf]") {
    auto l = parseNetworkList(
        R"({"cniVersion":"0.4.0","cniVersions":["1.0.0","9.9.9","0.3.1"],"name":"n","plugins":[{"type":"a"}]})",
        "f");
    REQUIRE(l);
    CHECK(l->cniVersion == "1.0.0");
    auto none =
        parseNetworkList(R"({"cniVersion":"2.0.0","name":"n","plugins":[{"type":"a"}]})", "f");
    CHECK(!none);
    // Versions below 1.1.0 that no spec has (found by fuzzing: "0.0.0" used to be chosen).
    for (const char* v : {"0.0.0", "0.5.0", "x", ""}) {
        auto bogus = parseNetworkList(std::string(R"({"cniVersion":")") + v +
                                          R"(","name":"n","plugins":[{"type":"a"}]})",
                                      "f");
        REQUIRE(!bogus);
        CHECK(bogus.error().msg.find("no cniVersion this runtime supports") != std::string::npos);
    }
    auto mixed = parseNetworkList(
        R"({"cniVersion":"0.5.0","cniVersions":["0.0.1","0.4.0"],"name":"n","plugins":[{"type":"a"}]})",
        "f");
    REQUIRE(mixed);
    CHECK(mixed->cniVersion == "0.4.0");
}

TEST_CASE("a number too large for a double is a decode error, not an abort", "[netconf]") {
    auto l = parseNetworkList(
        R"({"cniVersion":"1.0.0","name":"n","mtu":1e999,"plugins":[{"type":"a"}]})", "x.conflist");
    REQUIRE(!l);
    CHECK(l.error().code == tether::Code::DecodeFailure);
    CHECK(l.error().msg == "x.conflist: invalid JSON");
    CHECK(!parseLegacyConf(R"({"cniVersion":"1.0.0","name":"n","type":"a","x":-7e777777})",
                           "y.conf"));
}

TEST_CASE("a legacy .conf with a non-string name is refused, not thrown", "[netconf]") {
    auto l = parseLegacyConf(R"({"cniVersion":"1.0.0","name":5,"type":"bridge"})", "x.conf");
    REQUIRE(!l);
    CHECK(l.error().msg == "x.conf: missing network name");
}

TEST_CASE("bad lists are refused with the file and field named", "[netconf]") {
    auto unsafe = parseNetworkList(
        R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"../../bin/sh"}]})", "x.conflist");
    REQUIRE(!unsafe);
    CHECK(unsafe.error().msg.find("unsafe plugin type") != std::string::npos);
    CHECK(unsafe.error().msg.find("x.conflist") != std::string::npos);
    auto noPlugins = parseNetworkList(R"({"cniVersion":"1.0.0","name":"n","plugins":[]})", "f");
    REQUIRE(!noPlugins);
    auto badName =
        parseNetworkList(R"({"cniVersion":"1.0.0","name":"../x","plugins":[{"type":"a"}]})", "f");
    REQUIRE(!badName);
    CHECK(badName.error().msg.find("invalid network name") != std::string::npos);
    auto badBool = parseNetworkList(
        R"({"cniVersion":"1.0.0","name":"n","disableCheck":"maybe","plugins":[{"type":"a"}]})",
        "f");
    REQUIRE(!badBool);
    auto strBool = parseNetworkList(
        R"({"cniVersion":"1.0.0","name":"n","disableCheck":"true","plugins":[{"type":"a"}]})", "f");
    REQUIRE(strBool);
    CHECK(strBool->disableCheck);
}

TEST_CASE("a missing network lists what exists; sibling plugins are appended", "[netconf]") {
    test::TempDir d;
    write(d / "a.conflist", R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"one"}]})");
    std::filesystem::create_directory(d.path() / "a");
    write(d / "a/10-two.conf", R"({"type":"two"})");
    auto l = findNetwork(d.path(), "a");
    REQUIRE(l);
    REQUIRE(l->plugins.size() == 2);
    CHECK(l->plugins[1]["type"] == "two");
    auto missing = findNetwork(d.path(), "zzz");
    REQUIRE(!missing);
    CHECK(missing.error().msg.find("network \"zzz\" not found") != std::string::npos);
    CHECK(missing.error().details.find("a") != std::string::npos);
}

TEST_CASE("plugin stdin matches libcni's", "[netconf]") {
    auto l = parseNetworkList(R"({"cniVersion":"1.0.0","name":"n","plugins":[
        {"type":"bridge","bridge":"br0"},
        {"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false},"extra":1}]})",
                              "f");
    REQUIRE(l);
    RuntimeConf rt;
    rt.capabilityArgs = {{"portMappings", json::array({{{"hostPort", 80}}})},
                         {"bandwidth", json::object()}};
    json first = pluginStdin(*l, l->plugins[0], rt, nullptr);
    CHECK(first ==
          json{{"type", "bridge"}, {"bridge", "br0"}, {"name", "n"}, {"cniVersion", "1.0.0"}});
    json prev = {{"cniVersion", "1.0.0"}, {"ips", json::array()}};
    json second = pluginStdin(*l, l->plugins[1], rt, &prev);
    CHECK(second["prevResult"] == prev);
    CHECK(second["runtimeConfig"] == json{{"portMappings", json::array({{{"hostPort", 80}}})}});
    CHECK(second["capabilities"]["portMappings"] == true); // libcni does not strip capabilities
    CHECK(second["extra"] == 1);
}

TEST_CASE("sha512 matches the standard test vector", "[sha512]") {
    CHECK(sha512Hex("abc") == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    CHECK(sha512Hex("").substr(0, 16) == "cf83e1357eefb8bd");
}
