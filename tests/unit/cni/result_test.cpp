// Result conversion between every spec version, in both directions.
#include <catch2/catch.hpp>

#include "cni/result.hpp"
#include "cni/version.hpp"

using namespace tether;
using namespace tether::cni;
using nlohmann::json;

namespace {

Result sample() {
    Result r;
    r.interfaces = {{"eth0", "aa:bb:cc:dd:ee:ff", 1400u, "/run/netns/c1", "/sock", "0000:01:00.0"},
                    {"br0", "", std::nullopt, "", "", ""}};
    r.ips = {{"10.1.0.5/16", "10.1.0.1", 0},
             {"10.2.0.5/24", "", std::nullopt},
             {"fd00::5/64", "fd00::1", 0}};
    Route def4{"0.0.0.0/0", "10.1.0.1", 1300, 1200, 10, 100, 0};
    Route def6{"::/0", "fd00::1", {}, {}, {}, {}, {}};
    r.routes = {def4, def6};
    r.dns.nameservers = {"10.1.0.1"};
    r.dns.search = {"example.com"};
    return r;
}

json to(const Result& r, std::string_view v) {
    auto j = toJson(r, v);
    REQUIRE(j);
    return *j;
}

} // namespace

TEST_CASE("1.1.0 output carries every field, omits empty ones") {
    auto j = to(sample(), "1.1.0");
    CHECK(j["cniVersion"] == "1.1.0");
    CHECK(j["interfaces"][0] == json::parse(R"({"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","mtu":1400,
        "sandbox":"/run/netns/c1","socketPath":"/sock","pciID":"0000:01:00.0"})"));
    CHECK(j["interfaces"][1] == json::parse(R"({"name":"br0"})"));
    CHECK(j["ips"][0] ==
          json::parse(R"({"interface":0,"address":"10.1.0.5/16","gateway":"10.1.0.1"})"));
    CHECK(j["ips"][1] == json::parse(R"({"address":"10.2.0.5/24"})")); // interface absent != 0
    CHECK(j["routes"][0] == json::parse(R"({"dst":"0.0.0.0/0","gw":"10.1.0.1","mtu":1300,
        "advmss":1200,"priority":10,"table":100,"scope":0})"));
    CHECK(j["dns"] == json::parse(R"({"nameservers":["10.1.0.1"],"search":["example.com"]})"));
}

TEST_CASE("1.0.0 drops the 1.1.0-only fields") {
    auto j = to(sample(), "1.0.0");
    CHECK(j["interfaces"][0] ==
          json::parse(R"({"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","sandbox":"/run/netns/c1"})"));
    CHECK(j["routes"][0] == json::parse(R"({"dst":"0.0.0.0/0","gw":"10.1.0.1"})"));
    CHECK_FALSE(j["ips"][0].contains("version"));
}

TEST_CASE("0.3.0, 0.3.1 and 0.4.0 add ips[].version") {
    for (auto v : {"0.3.0", "0.3.1", "0.4.0"}) {
        auto j = to(sample(), v);
        CHECK(j["cniVersion"] == v);
        CHECK(j["ips"][0]["version"] == "4");
        CHECK(j["ips"][2]["version"] == "6");
        CHECK_FALSE(j["interfaces"][0].contains("mtu"));
        CHECK_FALSE(j["routes"][0].contains("table"));
    }
}

TEST_CASE("0.1.0 and 0.2.0 use ip4/ip6 with the first address of each family") {
    for (auto v : {"0.1.0", "0.2.0"}) {
        auto j = to(sample(), v);
        CHECK(j == json::parse(R"({"cniVersion":")" + std::string(v) + R"(",
            "ip4":{"ip":"10.1.0.5/16","gateway":"10.1.0.1",
                   "routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}]},
            "ip6":{"ip":"fd00::5/64","gateway":"fd00::1","routes":[{"dst":"::/0","gw":"fd00::1"}]},
            "dns":{"nameservers":["10.1.0.1"],"search":["example.com"]}})"));
    }
}

TEST_CASE("0.2.0 cannot express a result without addresses") {
    Result r;
    r.interfaces = {{"lo", "", {}, "", "", ""}};
    auto j = toJson(r, "0.2.0");
    REQUIRE_FALSE(j);
    CHECK(j.error().code == Code::IncompatibleVersion);
}

TEST_CASE("empty dns is omitted, unknown output version is code 1") {
    Result r;
    r.ips = {{"10.0.0.2/24", "", {}}};
    auto j = to(r, "1.0.0");
    CHECK_FALSE(j.contains("dns"));
    CHECK_FALSE(j.contains("interfaces"));
    CHECK_FALSE(j.contains("routes"));
    auto bad = toJson(r, "0.5.0");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Code::IncompatibleVersion);
}

TEST_CASE("parsing a 0.2.0 result gives ips and routes") {
    auto r = parseResult(json::parse(R"({"cniVersion":"0.2.0",
        "ip4":{"ip":"10.1.0.5/16","gateway":"10.1.0.1","routes":[{"dst":"0.0.0.0/0"}]},
        "ip6":{"ip":"fd00:0:0::5/64"},
        "dns":{"nameservers":["1.1.1.1"]}})"),
                         "1.0.0");
    REQUIRE(r);
    CHECK(r->cniVersion == "0.2.0");
    REQUIRE(r->ips.size() == 2);
    CHECK(r->ips[0].address == "10.1.0.5/16");
    CHECK(r->ips[0].gateway == "10.1.0.1");
    CHECK_FALSE(r->ips[0].interface);
    CHECK(r->ips[1].address == "fd00::5/64"); // canonical text, as Go prints it
    REQUIRE(r->routes.size() == 1);
    CHECK(r->routes[0].dst == "0.0.0.0/0");
    CHECK(r->dns.nameservers == std::vector<std::string>{"1.1.1.1"});
    // and on to the newest version
    auto j = to(*r, "1.1.0");
    CHECK(j["ips"] == json::parse(R"([{"address":"10.1.0.5/16","gateway":"10.1.0.1"},
                                      {"address":"fd00::5/64"}])"));
    CHECK(j["routes"] == json::parse(R"([{"dst":"0.0.0.0/0"}])"));
}

TEST_CASE("round trips through every version keep what the version can hold") {
    Result r = sample();
    r.ips.erase(r.ips.begin() + 1); // one address per family so 0.x keeps everything
    r.interfaces.resize(1);
    for (auto v : supportedVersions()) {
        auto j = to(r, v);
        auto back = parseResult(j, "1.1.0");
        REQUIRE(back);
        CHECK(back->cniVersion == v);
        CHECK(to(*back, v) == j);
        CHECK(back->ips.size() == 2);
        CHECK(back->routes.size() == 2);
        CHECK(back->dns.search == std::vector<std::string>{"example.com"});
    }
    // the 1.1.0 form is lossless
    auto back = parseResult(to(r, "1.1.0"), "");
    REQUIRE(back);
    CHECK(back->interfaces[0].mtu == 1400u);
    CHECK(back->routes[0].table == 100);
    CHECK(back->routes[0].scope == 0);
}

TEST_CASE("a result without cniVersion is read in the fallback version") {
    auto r = parseResult(json::parse(R"({"ip4":{"ip":"10.0.0.2/8"}})"), "0.2.0");
    REQUIRE(r);
    CHECK(r->ips.at(0).address == "10.0.0.2/8");
    auto unknown = parseResult(json::parse(R"({"cniVersion":"2.0.0"})"), "1.0.0");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == Code::IncompatibleVersion);
}

TEST_CASE("wrong types are code 6 naming the field") {
    auto check = [](const char* text, const char* msg) {
        auto r = parseResult(json::parse(text), "1.0.0");
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Code::DecodeFailure);
        CHECK(r.error().msg == msg);
    };
    check(R"({"ips":[{"address":"10.0.0.1/8"},{"address":5}]})", "ips[1].address must be a string");
    check(R"({"ips":[{"address":"10.0.0.1"}]})",
          "ips[0].address must be a CIDR (address/prefix): \"10.0.0.1\"");
    check(R"({"ips":[{"address":"10.0.0.1/33"}]})",
          "ips[0].address must be a CIDR (address/prefix): \"10.0.0.1/33\"");
    check(R"({"ips":[{"address":"10.0.0.1/8","gateway":"x"}]})",
          "ips[0].gateway must be an IP address: \"x\"");
    check(R"({"ips":[{"address":"10.0.0.1/8","interface":"0"}]})",
          "ips[0].interface must be an integer");
    check(R"({"ips":{}})", "ips must be a list");
    check(R"({"interfaces":[{"name":"a","mtu":-1}]})",
          "interfaces[0].mtu must be a non-negative integer");
    check(R"({"routes":[{"dst":"0.0.0.0/0","table":1.5}]})", "routes[0].table must be an integer");
    check(R"({"dns":{"nameservers":"1.1.1.1"}})", "dns.nameservers must be a list of strings");
    check(R"({"cniVersion":1})", "cniVersion must be a string");
    auto legacy = parseResult(json::parse(R"({"ip4":{"gateway":"10.0.0.1"}})"), "0.2.0");
    REQUIRE_FALSE(legacy);
    CHECK(legacy.error().msg == "ip4.ip is required");
}

TEST_CASE("null values count as absent, as Go decodes them") {
    auto r = parseResult(json::parse(R"({"cniVersion":"1.0.0","interfaces":null,
        "ips":[{"address":"10.0.0.2/24","gateway":null,"interface":null}],"dns":null})"),
                         "");
    REQUIRE(r);
    CHECK(r->ips[0].gateway.empty());
    CHECK_FALSE(r->ips[0].interface);
}
