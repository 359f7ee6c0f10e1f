// Plugin config parsing, CNI_ARGS and name validation.
#include <catch2/catch.hpp>

#include "cni/args.hpp"
#include "cni/config.hpp"

using namespace tether;
using namespace tether::cni;
using nlohmann::json;

TEST_CASE("parseNetConf reads the shared keys") {
    auto c = parseNetConf(R"({"cniVersion":"0.3.1","name":"net1","type":"bridge",
        "ipam":{"type":"host-local","subnet":"10.1.0.0/16"},
        "dns":{"nameservers":["10.1.0.1"],"domain":"x.local"},
        "runtimeConfig":{"portMappings":[]},"args":{"cni":{"ips":["10.1.0.9"]}},
        "prevResult":{"interfaces":[{"name":"eth0"}],
                      "ips":[{"version":"4","address":"10.1.0.9/16","interface":0}]},
        "bridge":"cni0"})");
    REQUIRE(c);
    CHECK(c->cniVersion == "0.3.1");
    CHECK(c->name == "net1");
    CHECK(c->type == "bridge");
    CHECK(c->ipamType == "host-local");
    REQUIRE(c->dns);
    CHECK(c->dns->domain == "x.local");
    REQUIRE(c->prevResult);
    CHECK(c->prevResult->cniVersion == "0.3.1"); // read in the config's version
    CHECK(c->prevResult->ips.at(0).interface == 0);
    CHECK(c->runtimeConfig.contains("portMappings"));
    CHECK(c->args["cni"]["ips"][0] == "10.1.0.9");
    CHECK(c->raw["bridge"] == "cni0");
}

TEST_CASE("missing cniVersion is 0.1.0 and prevResult is then read as ip4/ip6") {
    auto c = parseNetConf(R"({"name":"n","type":"x","prevResult":{"ip4":{"ip":"10.0.0.2/24"}}})");
    REQUIRE(c);
    CHECK(c->cniVersion == "0.1.0");
    REQUIRE(c->prevResult);
    CHECK(c->prevResult->ips.at(0).address == "10.0.0.2/24");
    CHECK_FALSE(c->dns);
    CHECK_FALSE(parseNetConf(R"({"name":"n","prevResult":null})")->prevResult);
}

TEST_CASE("parseNetConf errors name the key") {
    auto err = [](const char* text) {
        auto c = parseNetConf(text);
        REQUIRE_FALSE(c);
        return c.error();
    };
    auto e = err("{not json");
    CHECK(e.code == Code::DecodeFailure);
    CHECK(e.msg.starts_with("decode network config: "));
    CHECK(err("[1]").msg == "decode network config: expected a JSON object, got array");
    CHECK(err(R"({"name":5})").msg == "name must be a string");
    CHECK(err(R"({"cniVersion":1.0})").msg == "cniVersion must be a string");
    CHECK(err(R"({"ipam":"host-local"})").msg == "ipam must be an object");
    CHECK(err(R"({"ipam":{"type":3}})").msg == "ipam.type must be a string");
    CHECK(err(R"({"runtimeConfig":[]})").msg == "runtimeConfig must be an object");
    CHECK(err(R"({"dns":{"search":[1]}})").msg == "dns.search[0] must be a string");
    CHECK(err(R"({"cniVersion":"1.0.0","prevResult":{"ips":[{"address":7}]}})").msg ==
          "prevResult.ips[0].address must be a string");
    auto name = err(R"({"name":"../x"})");
    CHECK(name.code == Code::InvalidConfig);
    CHECK(err(R"({"type":"../bin/sh"})").code == Code::InvalidConfig);
    CHECK(err(R"({"ipam":{"type":"a/b"}})").code == Code::InvalidConfig);
}

TEST_CASE("findKey falls back to a case-insensitive match like Go") {
    auto j = json::parse(R"({"bandWidth":{"ingressRate":1},"Name":"x","name":"y"})");
    REQUIRE(findKey(j, "bandwidth"));
    CHECK((*findKey(j, "bandwidth"))["ingressRate"] == 1);
    CHECK(*findKey(j, "name") == "y"); // the exact match wins
    CHECK(findKey(j, "missing") == nullptr);
    CHECK(findKey(json::array(), "x") == nullptr);
    auto c = parseNetConf(R"({"CNIVersion":"1.0.0","Name":"n","Type":"t"})");
    REQUIRE(c);
    CHECK(c->cniVersion == "1.0.0");
    CHECK(c->name == "n");
}

TEST_CASE("CNI_ARGS parse like the reference LoadArgs") {
    auto p = parseCniArgs("IP=10.0.0.5;MAC=aa:bb:cc:dd:ee:ff", {"IP", "MAC"});
    REQUIRE(p);
    REQUIRE(p->size() == 2);
    CHECK(*findArg(*p, "IP") == "10.0.0.5");
    CHECK(findArg(*p, "ip") == nullptr); // keys are case-sensitive
    CHECK(parseCniArgs("", {"IP"})->empty());

    auto invalid = parseCniArgs("IP=1;BROKEN", {"IP"});
    REQUIRE_FALSE(invalid);
    CHECK(invalid.error().code == Code::InvalidEnv);
    CHECK(invalid.error().msg == "ARGS: invalid pair \"BROKEN\"");
    CHECK(parseCniArgs("A=b=c", {"A"}).error().msg == "ARGS: invalid pair \"A=b=c\"");
    CHECK(parseCniArgs("IP=1;", {"IP"}).error().msg == "ARGS: invalid pair \"\"");

    auto unknown = parseCniArgs("K8S_POD_NAME=p;IP=1;X=y", {"IP"});
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().msg == "ARGS: unknown args [\"K8S_POD_NAME=p\" \"X=y\"]");
}

TEST_CASE("IgnoreUnknown accepts 1/true in any case, rejects other values") {
    for (auto v : {"1", "true", "TRUE", "True"}) {
        auto p = parseCniArgs("K8S_POD_NAME=p;IgnoreUnknown=" + std::string(v), {"IP"});
        REQUIRE(p);
        CHECK(*findArg(*p, "K8S_POD_NAME") == "p");
        CHECK(findArg(*p, "IgnoreUnknown") != nullptr);
    }
    for (auto v : {"0", "false"})
        CHECK_FALSE(parseCniArgs("X=1;IgnoreUnknown=" + std::string(v), {"IP"}));
    CHECK(parseCniArgs("IgnoreUnknown=yes", {}).error().msg ==
          "ARGS: error parsing value of pair \"IgnoreUnknown=yes\"");
    // the key itself is case-sensitive: "ignoreunknown" is just another unknown key
    CHECK_FALSE(parseCniArgs("X=1;ignoreunknown=1", {}));
}

TEST_CASE("container IDs and network names") {
    CHECK(validateContainerId("abc-123_x.y"));
    CHECK(validateContainerId("").error().code == Code::UnknownContainer);
    for (auto bad : {"../x", "-a", "a b", "a/b", ".hidden"}) {
        auto s = validateContainerId(bad);
        REQUIRE_FALSE(s);
        CHECK(s.error().code == Code::InvalidEnv);
    }
    CHECK(validateNetworkName("net-1.a_b"));
    CHECK(validateNetworkName("../x").error().code == Code::InvalidConfig);
    CHECK(validateNetworkName("").error().code == Code::InvalidConfig);
}

TEST_CASE("interface names") {
    CHECK(validateIfName("eth0"));
    CHECK(validateIfName("123456789012345")); // 15 bytes
    auto tooLong = validateIfName("1234567890123456");
    REQUIRE_FALSE(tooLong);
    CHECK(tooLong.error().code == Code::InvalidEnv);
    CHECK(tooLong.error().msg.find("too long") != std::string::npos);
    for (auto bad : {"", ".", "..", "a:b", "a/b", "a b", "a\tb", "a\nb"}) {
        INFO(bad);
        CHECK_FALSE(validateIfName(bad));
    }
}

TEST_CASE("plugin types") {
    CHECK(validatePluginType("host-local"));
    for (auto bad : {"", ".", "..", "a/b", "/bin/sh"})
        CHECK_FALSE(validatePluginType(bad));
}
