// The static IPAM plugin on its own: results side by side with the reference (/usr/lib/cni/static)
// in every spec version both speak, the address sources' precedence, CHECK, DEL and errors.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;

namespace {

std::string ours() {
    return binDir() + "/static";
}

std::string reference() {
    return ::access("/usr/lib/cni/static", X_OK) == 0 ? "/usr/lib/cni/static" : "";
}

PluginRun run(const std::string& bin, const std::string& cmd, const json& conf,
              const std::string& cniArgs = "") {
    std::vector<std::pair<std::string, std::string>> env = {{"CNI_CONTAINERID", "c1"},
                                                            {"CNI_NETNS", "/proc/self/ns/net"},
                                                            {"CNI_NETNS_OVERRIDE", "1"},
                                                            {"CNI_IFNAME", "eth0"},
                                                            {"CNI_PATH", "/usr/lib/cni"}};
    if (!cniArgs.empty()) env.emplace_back("CNI_ARGS", cniArgs);
    return runPlugin(bin, cmd, env, conf.dump());
}

json conf(const std::string& version, json ipam, json extra = json::object()) {
    ipam["type"] = "static";
    json c = {{"cniVersion", version}, {"name", "snet"}, {"type", "bridge"}, {"ipam", ipam}};
    c.merge_patch(extra);
    return c;
}

// The reference prints "dns":{} when there is no DNS; we omit it.
json normalized(json r) {
    if (r.contains("dns") && r["dns"].empty()) r.erase("dns");
    return r;
}

const json kDualStack = {
    {"addresses",
     {{{"address", "10.30.0.5/24"}, {"gateway", "10.30.0.1"}}, {{"address", "fd00:30::5/64"}}}},
    {"routes", {{{"dst", "0.0.0.0/0"}}, {{"dst", "192.168.0.0/16"}, {"gw", "10.30.0.9"}}}},
    {"dns", {{"nameservers", {"10.30.0.53"}}, {"domain", "example.com"}, {"search", {"a.b"}}}}};

} // namespace

TEST_CASE("static hands out the configured addresses, routes and DNS", "[static]") {
    auto r = run(ours(), "ADD", conf("1.0.0", kDualStack));
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 0);
    REQUIRE(r.json);
    const json& res = *r.json;
    REQUIRE(res["ips"].size() == 2);
    CHECK(res["ips"][0] == json{{"address", "10.30.0.5/24"}, {"gateway", "10.30.0.1"}});
    CHECK(res["ips"][1] == json{{"address", "fd00:30::5/64"}});
    CHECK(res["routes"] == kDualStack["routes"]);
    CHECK(res["dns"]["nameservers"] == json{"10.30.0.53"});
    CHECK(!res.contains("interfaces"));

    SECTION("0.3.x/0.4.0 results carry ips[].version, 0.1.0/0.2.0 use ip4/ip6") {
        auto v031 = run(ours(), "ADD", conf("0.3.1", kDualStack));
        REQUIRE(v031.json);
        CHECK((*v031.json)["ips"][0]["version"] == "4");
        CHECK((*v031.json)["ips"][1]["version"] == "6");
        auto v020 = run(ours(), "ADD", conf("0.2.0", kDualStack));
        REQUIRE(v020.json);
        CHECK((*v020.json)["ip4"]["ip"] == "10.30.0.5/24");
        CHECK((*v020.json)["ip4"]["gateway"] == "10.30.0.1");
        CHECK((*v020.json)["ip6"]["ip"] == "fd00:30::5/64");
    }
    SECTION("1.1.0 keeps the route's extra keys") {
        json ipam = {{"addresses", {{{"address", "10.30.0.5/24"}}}},
                     {"routes", {{{"dst", "10.9.0.0/16"}, {"mtu", 1400}, {"table", 5}}}}};
        auto v110 = run(ours(), "ADD", conf("1.1.0", ipam));
        REQUIRE(v110.json);
        CHECK((*v110.json)["routes"][0] == ipam["routes"][0]);
    }
}

TEST_CASE("static results equal the reference's", "[static][interop]") {
    if (reference().empty()) FAIL("reference static missing from /usr/lib/cni");
    const json single = {{"addresses", {{{"address", "10.30.0.5/24"}, {"gateway", "10.30.0.1"}}}}};
    struct Case {
        json ipam;
        json extra;
        std::string cniArgs;
    };
    const std::vector<Case> cases = {
        {kDualStack, json::object(), ""},
        {single, json::object(), ""},
        {json::object(), json::object(), ""},
        {single, json::object(), "IP=10.31.0.5/24,fd00:31::5/64;GATEWAY=10.31.0.1"},
        {single, json::object(), "IgnoreUnknown=1;FOO=bar"},
        {single, {{"args", {{"cni", {{"ips", {"10.32.0.5/24"}}}}}}}, "IP=10.31.0.5/24"},
        {single,
         {{"runtimeConfig", {{"ips", {"10.33.0.5/24", "fd00:33::5/64"}}}},
          {"args", {{"cni", {{"ips", {"10.32.0.5/24"}}}}}}},
         ""},
    };
    for (const std::string version : {"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"})
        for (size_t i = 0; i < cases.size(); ++i) {
            const json c = conf(version, cases[i].ipam, cases[i].extra);
            auto a = run(ours(), "ADD", c, cases[i].cniArgs);
            auto b = run(reference(), "ADD", c, cases[i].cniArgs);
            INFO(version << " case " << i << "\nours: " << a.out << a.err << "\nref: " << b.out);
            REQUIRE(a.exitCode == b.exitCode);
            if (a.exitCode == 0) {
                REQUIRE(a.json);
                REQUIRE(b.json);
                CHECK(normalized(*a.json) == normalized(*b.json));
            }
        }
}

TEST_CASE("static address sources replace each other as the reference's do", "[static]") {
    const json base = {{"addresses", {{{"address", "10.30.0.5/24"}, {"gateway", "10.30.0.1"}}}}};
    auto ips = [](const PluginRun& r) {
        std::vector<std::string> out;
        for (const auto& ip : (*r.json)["ips"])
            out.push_back(ip["address"].get<std::string>());
        return out;
    };
    auto withArgs = run(ours(), "ADD", conf("1.0.0", base), "IP=10.31.0.5/24;GATEWAY=10.31.0.1");
    REQUIRE(withArgs.exitCode == 0);
    CHECK(ips(withArgs) == std::vector<std::string>{"10.30.0.5/24", "10.31.0.5/24"});
    CHECK((*withArgs.json)["ips"][1]["gateway"] == "10.31.0.1");

    auto argsCni =
        run(ours(), "ADD", conf("1.0.0", base, {{"args", {{"cni", {{"ips", {"10.32.0.5/24"}}}}}}}),
            "IP=10.31.0.5/24");
    REQUIRE(argsCni.exitCode == 0);
    CHECK(ips(argsCni) == std::vector<std::string>{"10.32.0.5/24"});

    auto capability = run(ours(), "ADD",
                          conf("1.0.0", base,
                               {{"capabilities", {{"ips", true}}},
                                {"runtimeConfig", {{"ips", {"10.33.0.5/24"}}}},
                                {"args", {{"cni", {{"ips", {"10.32.0.5/24"}}}}}}}));
    REQUIRE(capability.exitCode == 0);
    CHECK(ips(capability) == std::vector<std::string>{"10.33.0.5/24"});
}

TEST_CASE("static rejects bad input with the field named", "[static][errors]") {
    auto expectError = [](const PluginRun& r, int code, const std::string& text) {
        INFO(r.out << r.err);
        REQUIRE(r.exitCode == 1);
        REQUIRE(r.json);
        CHECK((*r.json)["code"] == code);
        CHECK((*r.json)["msg"].get<std::string>().find(text) != std::string::npos);
    };
    expectError(run(ours(), "ADD", conf("1.0.0", {{"addresses", {{{"address", "10.30.0.5"}}}}})), 7,
                "ipam.addresses[0].address: invalid CIDR \"10.30.0.5\"");
    expectError(
        run(ours(), "ADD",
            conf("1.0.0", {{"addresses", {{{"address", "10.30.0.5/24"}, {"gateway", "nope"}}}}})),
        7, "ipam.addresses[0].gateway");
    expectError(run(ours(), "ADD", conf("1.0.0", {{"routes", {{{"dst", "10.0.0.0"}}}}})), 7,
                "ipam.routes[0].dst");
    expectError(run(ours(), "ADD", conf("1.0.0", {{"addresses", {{{"address", 5}}}}})), 6,
                "ipam.addresses[0].address");
    expectError(run(ours(), "ADD", conf("1.0.0", json::object()), "IP=10.31.0.5"), 4,
                "CNI_ARGS IP");
    expectError(run(ours(), "ADD", conf("1.0.0", json::object()), "FOO=1"), 4, "FOO=1");
    expectError(
        run(ours(), "ADD",
            conf("0.2.0",
                 {{"addresses", {{{"address", "10.30.0.5/24"}}, {{"address", "10.31.0.5/24"}}}}})),
        7, "does not support more than 1 address per family");
    json noIpam = conf("1.0.0", json::object());
    noIpam.erase("ipam");
    expectError(run(ours(), "ADD", noIpam), 7, "IPAM config missing 'ipam' key");
    SECTION("DEL validates the config as the reference does, else succeeds") {
        expectError(
            run(ours(), "DEL", conf("1.0.0", {{"addresses", {{{"address", "10.30.0.5"}}}}})), 7,
            "invalid CIDR");
        CHECK(run(ours(), "DEL", conf("1.0.0", kDualStack)).exitCode == 0);
        CHECK(run(ours(), "STATUS", conf("1.1.0", kDualStack)).exitCode == 0);
    }
}

TEST_CASE("static CHECK compares the configured addresses with prevResult", "[static]") {
    json c = conf("1.0.0", kDualStack);
    auto add = run(ours(), "ADD", c);
    REQUIRE(add.json);
    CHECK(run(ours(), "CHECK", c).exitCode == 1); // prevResult required
    c["prevResult"] = *add.json;
    CHECK(run(ours(), "CHECK", c).exitCode == 0);
    c["prevResult"]["ips"][0]["gateway"] = "10.30.0.2";
    auto wrongGw = run(ours(), "CHECK", c);
    CHECK(wrongGw.exitCode == 1);
    CHECK(wrongGw.out.find("10.30.0.5/24") != std::string::npos);
    c["prevResult"]["ips"].erase(1);
    CHECK(run(ours(), "CHECK", c).exitCode == 1);
}
