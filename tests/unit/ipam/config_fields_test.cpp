// The config reading host-local and static share (ipam/config_fields): what each plugin's
// parseConfig returns for routes and handed-over addresses is what these readers give.
#include <catch2/catch.hpp>

#include "ipam/config_fields.hpp"
#include "plugins/host-local/config.hpp"
#include "plugins/static/config.hpp"

using namespace tether;
using nlohmann::json;

TEST_CASE("parseRoutes: dst as written, empty gw is no gateway, errors name the field") {
    auto routes = ipam::parseRoutes(json::parse(
        R"({"routes":[{"dst":"10.1.2.3/16","gw":""},{"dst":"::/0","gw":"fd00::1","mtu":1400}]})"));
    REQUIRE(routes);
    REQUIRE(routes->size() == 2);
    CHECK((*routes)[0].dst == "10.1.2.3/16"); // host bits kept, as the reference keeps them
    CHECK((*routes)[0].gw.empty());
    CHECK((*routes)[1].gw == "fd00::1");
    CHECK((*routes)[1].mtu == 1400);

    auto bad = ipam::parseRoutes(json::parse(R"({"routes":[{"dst":"0.0.0.0/0","gw":"x"}]})"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Code::InvalidConfig);
    CHECK(bad.error().msg == "ipam.routes[0].gw: invalid IP address: x");
    bad = ipam::parseRoutes(json::parse(R"({"routes":[{"gw":"10.0.0.1"}]})"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().msg == "ipam.routes[0].dst: missing");
    bad = ipam::parseRoutes(json::parse(R"({"routes":[{"dst":"0.0.0.0/0","mtu":"big"}]})"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Code::DecodeFailure);
}

TEST_CASE("host-local and static read routes alike") {
    const std::string routes = R"("routes":[{"dst":"0.0.0.0/0","gw":""},{"dst":"1.2.3.4"}])";
    auto hl = hostlocal::parseConfig(
        json::parse(R"({"name":"n","ipam":{"subnet":"10.0.0.0/24",)" + routes + "}}"), "1.0.0", "");
    auto st = staticipam::parseConfig(
        json::parse(R"({"ipam":{"addresses":[{"address":"10.0.0.5/24"}],)" + routes + "}}"),
        "1.0.0", "");
    REQUIRE_FALSE(hl);
    REQUIRE_FALSE(st);
    CHECK(hl.error().msg == "ipam.routes[1].dst: invalid CIDR address: 1.2.3.4");
    CHECK(st.error().msg == hl.error().msg);
}

TEST_CASE("handedIps: args.cni.ips then runtimeConfig.ips, each where it stood") {
    auto lists = ipam::handedIps(json::parse(
        R"({"args":{"cni":{"ips":["10.0.0.7"]}},"runtimeConfig":{"ips":["10.0.0.8/24","fd::8"]}})"));
    REQUIRE(lists);
    REQUIRE(lists->size() == 2);
    CHECK((*lists)[0].path == "args.cni");
    CHECK((*lists)[0].ips == std::vector<std::string>{"10.0.0.7"});
    CHECK((*lists)[1].path == "runtimeConfig");
    CHECK((*lists)[1].ips.size() == 2);
    auto none = ipam::handedIps(json::parse(R"({"name":"n"})"));
    REQUIRE(none);
    CHECK(none->empty());
    auto bad = ipam::handedIps(json::parse(R"({"runtimeConfig":{"ips":"10.0.0.8"}})"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Code::DecodeFailure);
}

TEST_CASE("splitArgList, ipamSection, checkOnePerFamily") {
    auto items = ipam::splitArgList(" 10.0.0.1 ,\t10.0.0.2,");
    REQUIRE(items.size() == 3);
    CHECK(items[0] == "10.0.0.1");
    CHECK(items[1] == "10.0.0.2");
    CHECK(items[2].empty());

    auto sec = ipam::ipamSection(json::parse(R"({"name":"n"})"));
    REQUIRE_FALSE(sec);
    CHECK(sec.error().code == Code::InvalidConfig);
    CHECK(sec.error().msg == "IPAM config missing 'ipam' key");
    CHECK(ipam::ipamSection(json::parse(R"([1])")).error().code == Code::DecodeFailure);
    CHECK(ipam::ipamSection(json::parse(R"({"ipam":{"type":"x"}})")).has_value());

    CHECK(ipam::checkOnePerFamily(1, 1, "0.2.0").has_value());
    CHECK(ipam::checkOnePerFamily(2, 0, "0.3.0").has_value());
    auto e = ipam::checkOnePerFamily(2, 0, "0.2.0");
    REQUIRE_FALSE(e);
    CHECK(e.error().msg == "CNI version 0.2.0 does not support more than 1 address per family");
}
