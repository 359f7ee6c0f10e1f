#include <catch2/catch.hpp>

#include "plugins/host-local/config.hpp"

using namespace tether;
using namespace tether::hostlocal;
using nlohmann::json;

namespace {

Expected<Config> parse(const std::string& text, std::string_view version = "1.0.0",
                       std::string_view args = "") {
    return parseConfig(json::parse(text), version, args);
}

Error parseError(const std::string& text, std::string_view version = "1.0.0",
                 std::string_view args = "") {
    auto c = parse(text, version, args);
    REQUIRE_FALSE(c);
    return c.error();
}

} // namespace

TEST_CASE("ranges, routes, dataDir and resolvConf are read") {
    auto c = parse(R"({"name":"n","ipam":{"type":"host-local",
        "ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.0.10","rangeEnd":"10.0.0.20",
                    "gateway":"10.0.0.254"}],[{"subnet":"fd00::/64"}]],
        "routes":[{"dst":"0.0.0.0/0"},{"dst":"192.168.0.0/16","gw":"10.0.0.1"}],
        "dataDir":"/tmp/x","resolvConf":"/etc/r"}})");
    REQUIRE(c);
    CHECK(c->name == "n");
    REQUIRE(c->rangeSets.size() == 2);
    CHECK(c->rangeSets[0][0].rangeStart.str() == "10.0.0.10");
    CHECK(c->rangeSets[0][0].gateway.str() == "10.0.0.254");
    CHECK(c->rangeSets[1][0].subnet.str() == "fd00::/64");
    REQUIRE(c->routes.size() == 2);
    CHECK(c->routes[1].dst == "192.168.0.0/16");
    CHECK(c->routes[1].gw == "10.0.0.1");
    CHECK(c->dataDir == "/tmp/x");
    CHECK(c->resolvConf == "/etc/r");
}

TEST_CASE("defaults: dataDir /var/lib/cni/networks") {
    auto c = parse(R"({"name":"n","ipam":{"subnet":"10.0.0.0/24"}})");
    REQUIRE(c);
    CHECK(c->dataDir == "/var/lib/cni/networks");
    CHECK(c->resolvConf.empty());
    CHECK(c->routes.empty());
}

TEST_CASE("runtimeConfig.ipRanges, then the legacy range, then ranges") {
    auto c = parse(R"({"name":"n","runtimeConfig":{"ipRanges":[[{"subnet":"10.9.0.0/24"}]]},
        "ipam":{"subnet":"10.1.0.0/24","ranges":[[{"subnet":"10.2.0.0/24"}]]}})");
    REQUIRE(c);
    REQUIRE(c->rangeSets.size() == 3);
    CHECK(c->rangeSets[0][0].subnet.str() == "10.9.0.0/24");
    CHECK(c->rangeSets[1][0].subnet.str() == "10.1.0.0/24");
    CHECK(c->rangeSets[2][0].subnet.str() == "10.2.0.0/24");
}

TEST_CASE("requested addresses from CNI_ARGS, args.cni.ips and runtimeConfig.ips") {
    auto c = parse(R"({"name":"n","args":{"cni":{"ips":["10.0.0.7"]}},
        "runtimeConfig":{"ips":["fd00::9/64"]},"ipam":{"subnet":"10.0.0.0/24"}})",
                   "1.0.0", "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.0.0.5, 10.0.0.6");
    REQUIRE(c);
    REQUIRE(c->requested.size() == 4);
    CHECK(c->requested[0].str() == "10.0.0.5");
    CHECK(c->requested[1].str() == "10.0.0.6");
    CHECK(c->requested[2].str() == "10.0.0.7");
    CHECK(c->requested[3].str() == "fd00::9");

    auto bad = parseError(R"({"name":"n","ipam":{"subnet":"10.0.0.0/24"}})", "1.0.0", "IP=nope");
    CHECK(bad.code == Code::InvalidEnv);
    CHECK(bad.msg == "CNI_ARGS IP: invalid IP \"nope\"");
    CHECK(parseError(R"({"name":"n","ipam":{"subnet":"10.0.0.0/24"}})", "1.0.0", "FOO=1").code ==
          Code::InvalidEnv);
    auto badList = parseError(R"({"name":"n","runtimeConfig":{"ips":["x"]},
        "ipam":{"subnet":"10.0.0.0/24"}})");
    CHECK(badList.msg == "runtimeConfig.ips: invalid IP \"x\"");
}

TEST_CASE("invalid values: code 7 with the field and the reference wording") {
    auto e = parseError(R"({"name":"n","ipam":{"ranges":[[{"subnet":"10.0.0.0/31"}]]}})");
    CHECK(e.code == Code::InvalidConfig);
    CHECK(e.msg == "invalid range set 0: ipam.ranges[0][0].subnet: network 10.0.0.0/31 too small "
                   "to allocate from");
    e = parseError(R"({"name":"n","ipam":{"subnet":"10.0.0.0/33"}})");
    CHECK(e.msg == "invalid range set 0: ipam.subnet: invalid CIDR address: 10.0.0.0/33");
    e = parseError(R"({"name":"n","ipam":{"ranges":[[{"subnet":"10.0.0.0/24"}],
        [{"subnet":"10.0.0.0/25"}]]}})");
    CHECK(e.msg == "range set 0 overlaps with 1");
    e = parseError(
        R"({"name":"n","ipam":{"ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.1.1"}]]}})");
    CHECK(e.msg.find("ipam.ranges[0][0].rangeStart: RangeStart 10.0.1.1 not in network") !=
          std::string::npos);
    e = parseError(R"({"name":"n","ipam":{"type":"host-local"}})");
    CHECK(e.msg == "no IP ranges specified");
    CHECK(e.code == Code::InvalidConfig);
    e = parseError(R"({"name":"n"})");
    CHECK(e.msg == "IPAM config missing 'ipam' key");
    e = parseError(R"({"name":"n","ipam":{"routes":[{"dst":"1.2.3.4"}],"subnet":"10.0.0.0/24"}})");
    CHECK(e.msg == "ipam.routes[0].dst: invalid CIDR address: 1.2.3.4");
}

TEST_CASE("wrong types: code 6 naming the field") {
    auto e = parseError(R"({"name":"n","ipam":{"ranges":[[{"subnet":5}]]}})");
    CHECK(e.code == Code::DecodeFailure);
    CHECK(e.msg == "ipam.ranges[0][0].subnet must be a string");
    e = parseError(R"({"name":"n","ipam":{"ranges":{"subnet":"10.0.0.0/24"}}})");
    CHECK(e.code == Code::DecodeFailure);
    CHECK(e.msg.find("ipam.ranges") == 0);
    e = parseError(R"({"name":"n","ipam":{"ranges":[{"subnet":"10.0.0.0/24"}]}})");
    CHECK(e.msg.find("ipam.ranges[0]") == 0);
    e = parseError(R"({"name":"n","ipam":{"subnet":"10.0.0.0/24","dataDir":7}})");
    CHECK(e.msg == "ipam.dataDir must be a string");
    e = parseError(R"({"name":"n","ipam":"host-local"})");
    CHECK(e.msg == "ipam must be an object");
}

TEST_CASE("more than one address per family needs cniVersion 0.3.0") {
    const char* two = R"({"name":"n","ipam":{"ranges":[[{"subnet":"10.1.0.0/24"}],
        [{"subnet":"10.2.0.0/24"}]]}})";
    auto e = parseError(two, "0.2.0");
    CHECK(e.msg == "CNI version 0.2.0 does not support more than 1 address per family");
    CHECK(parse(two, "0.3.0"));
    CHECK(parse(R"({"name":"n","ipam":{"ranges":[[{"subnet":"10.1.0.0/24"}],
        [{"subnet":"fd00::/64"}]]}})",
                "0.2.0"));
}

TEST_CASE("the store location alone is read for DEL") {
    auto c = parseStoreLocation(
        json::parse(R"({"name":"n","ipam":{"dataDir":"/d","subnet":"10.0.0.0/31"}})"), "1.0.0");
    REQUIRE(c);
    CHECK(c->name == "n");
    CHECK(c->dataDir == "/d");
    auto d = parseStoreLocation(json::parse(R"({"name":"n","ipam":{}})"), "1.0.0");
    REQUIRE(d);
    CHECK(d->dataDir == "/var/lib/cni/networks");
    auto e = parseStoreLocation(json::parse(R"({"name":"n"})"), "1.0.0");
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Code::InvalidConfig);
}
