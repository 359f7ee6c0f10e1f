// The bridge plugin driven as libcni drives it, observed from the host and the containers.
#include <catch2/catch.hpp>

#include "libnet/netns.hpp"
#include "tests/e2e/bridge/bridge_env.hpp"

using namespace tether::test;
using namespace tether::test::bridgetest;
using nlohmann::json;

namespace {

bool pings(const ScratchNetns& from, const std::string& addr) {
    bool v6 = addr.find(':') != std::string::npos;
    auto r = from.exec({"ping", v6 ? "-6" : "-4", "-c2", "-i0.2", "-W2", addr});
    return r.exitCode == 0;
}

} // namespace

TEST_CASE("bridge ADD, CHECK, DEL twice as libcni runs it", "[bridge]") {
    TempDir data;
    PluginDir dir(true, true);
    ScratchNetns c1;
    json conf = bridgeConfig("1.0.0", "tbr-chain", data.path(), {"10.11.0.0/24"},
                             {{"isDefaultGateway", true}});

    auto add = call(dir, "ADD", "c1", c1.path(), conf);
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    json res = *add.json;
    REQUIRE(res["interfaces"].size() == 3);
    CHECK(res["interfaces"][0]["name"] == "tbr-chain");
    CHECK(res["interfaces"][2]["name"] == "eth0");
    CHECK(res["interfaces"][2]["sandbox"] == c1.path());
    CHECK(res["ips"][0]["address"] == "10.11.0.2/24");
    CHECK(res["ips"][0]["gateway"] == "10.11.0.1");
    CHECK(res["ips"][0]["interface"] == 2);
    CHECK(res["routes"][0]["dst"] == "0.0.0.0/0");

    // What the user sees: the address in the container, a default route, the gateway on the bridge.
    CHECK(addressesIn(c1, "eth0") == std::vector<std::string>{"10.11.0.2/24"});
    auto routes = c1.exec({"ip", "-j", "route", "show", "default"}).json();
    REQUIRE(routes.size() == 1);
    CHECK(routes[0]["gateway"] == "10.11.0.1");
    auto brAddr = execHere({"ip", "-j", "addr", "show", "dev", "tbr-chain"}).json();
    CHECK(brAddr[0]["addr_info"][0]["local"] == "10.11.0.1");
    CHECK(pings(c1, "10.11.0.1"));
    std::string hostVeth = res["interfaces"][1]["name"];
    auto master = execHere({"ip", "-j", "link", "show", "dev", hostVeth}).json();
    CHECK(master[0]["master"] == "tbr-chain");

    auto check = call(dir, "CHECK", "c1", c1.path(), withPrev(conf, res));
    INFO(check.out);
    CHECK(check.exitCode == 0);
    CHECK(check.out.empty());

    auto del = call(dir, "DEL", "c1", c1.path(), withPrev(conf, res));
    CHECK(del.exitCode == 0);
    CHECK(addressesIn(c1, "eth0").empty());
    CHECK(hostVeths().empty());
    CHECK(leases(data.path(), "testnet").empty());
    auto again = call(dir, "DEL", "c1", c1.path(), withPrev(conf, res));
    CHECK(again.exitCode == 0);
    // The shared bridge stays.
    CHECK(execHere({"ip", "link", "show", "tbr-chain"}).exitCode == 0);
}

TEST_CASE("CHECK fails when the container address was removed", "[bridge]") {
    TempDir data;
    PluginDir dir(true, true);
    ScratchNetns c1;
    json conf = bridgeConfig("1.1.0", "tbr-check", data.path(), {"10.12.0.0/24"});
    auto add = call(dir, "ADD", "c1", c1.path(), conf);
    REQUIRE(add.exitCode == 0);
    REQUIRE(c1.exec({"ip", "addr", "del", "10.12.0.2/24", "dev", "eth0"}).exitCode == 0);
    auto check = call(dir, "CHECK", "c1", c1.path(), withPrev(conf, *add.json));
    CHECK(check.exitCode != 0);
    CHECK(check.out.find("10.12.0.2/24") != std::string::npos);
    CHECK(call(dir, "DEL", "c1", c1.path(), withPrev(conf, *add.json)).exitCode == 0);
}

TEST_CASE("DEL after the netns is gone still releases the lease", "[bridge]") {
    TempDir data;
    PluginDir dir(true, true);
    json conf = bridgeConfig("1.0.0", "tbr-gone", data.path(), {"10.13.0.0/24"});
    std::string path;
    json res;
    {
        ScratchNetns c1;
        path = c1.path();
        auto add = call(dir, "ADD", "gone1", path, conf);
        REQUIRE(add.exitCode == 0);
        res = *add.json;
        REQUIRE(leases(data.path(), "testnet").size() == 1);
    }
    auto del = call(dir, "DEL", "gone1", path, withPrev(conf, res));
    INFO(del.out);
    CHECK(del.exitCode == 0);
    CHECK(leases(data.path(), "testnet").empty());
    auto noNetns = call(dir, "DEL", "gone1", "", conf);
    CHECK(noNetns.exitCode == 0);
}

TEST_CASE("two containers reach each other and the gateway", "[bridge]") {
    TempDir data;
    PluginDir dir(true, true);
    ScratchNetns a, b;
    json conf = bridgeConfig("1.0.0", "tbr-ping", data.path(), {"10.14.0.0/24", "fd14::/64"},
                             {{"isGateway", true}});
    auto addA = call(dir, "ADD", "pa", a.path(), conf);
    auto addB = call(dir, "ADD", "pb", b.path(), conf);
    INFO(addA.out << addB.out);
    REQUIRE(addA.exitCode == 0);
    REQUIRE(addB.exitCode == 0);
    CHECK(addressesIn(b, "eth0") == std::vector<std::string>{"10.14.0.3/24", "fd14::3/64"});
    CHECK(pings(a, "10.14.0.3"));
    CHECK(pings(a, "10.14.0.1"));
    CHECK(pings(a, "fd14::3"));
    CHECK(pings(b, "fd14::1"));
    CHECK(call(dir, "DEL", "pa", a.path(), withPrev(conf, *addA.json)).exitCode == 0);
    CHECK(call(dir, "DEL", "pb", b.path(), withPrev(conf, *addB.json)).exitCode == 0);
    CHECK(hostVeths().empty());
}

TEST_CASE("results come in the config's version", "[bridge]") {
    TempDir data;
    PluginDir dir(true, true);
    for (std::string v : {"0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        DYNAMIC_SECTION("version " << v) {
            ScratchNetns c;
            json conf = bridgeConfig(v, "tbr-ver", data.path(), {"10.15.0.0/24"});
            auto add = call(dir, "ADD", "v1", c.path(), conf);
            INFO(add.out);
            REQUIRE(add.exitCode == 0);
            CHECK((*add.json)["cniVersion"] == v);
            bool old = v == "0.3.1" || v == "0.4.0";
            CHECK((*add.json)["ips"][0].contains("version") == old);
            if (v != "0.3.1")
                CHECK(call(dir, "CHECK", "v1", c.path(), withPrev(conf, *add.json)).exitCode == 0);
            CHECK(call(dir, "DEL", "v1", c.path(), withPrev(conf, *add.json)).exitCode == 0);
        }
    }
}

TEST_CASE("bad configs are refused before anything is created", "[bridge]") {
    TempDir data;
    PluginDir dir(true, true);
    ScratchNetns c;
    REQUIRE(execHere({"ip", "link", "add", "notabr", "type", "veth", "peer", "name", "notabr-p"})
                .exitCode == 0);
    struct Bad {
        json extra;
        int code;
        std::string text;
    };
    std::vector<Bad> cases = {
        {{{"bridge", "notabr"}}, 7, "not a bridge"},
        {{{"mtu", 10}}, 7, "mtu"},
        {{{"mtu", "big"}}, 6, "mtu"},
        {{{"hairpinMode", true}, {"promiscMode", true}}, 7, "hairpinMode"},
        {{{"vlan", 5000}}, 7, "vlan"},
        {{{"bridge", "a/b"}}, 7, "bridge"},
        {{{"isGateway", "yes"}}, 6, "isGateway"},
    };
    for (const auto& bad : cases) {
        json conf = bridgeConfig("1.0.0", "tbr-bad", data.path(), {"10.16.0.0/24"}, bad.extra);
        auto add = call(dir, "ADD", "bad1", c.path(), conf);
        INFO(conf.dump() << " -> " << add.out);
        CHECK(add.exitCode != 0);
        REQUIRE(add.json);
        CHECK((*add.json)["code"] == bad.code);
        CHECK(add.out.find(bad.text) != std::string::npos);
        CHECK(hostVeths() == std::vector<std::string>{"notabr-p", "notabr"});
        CHECK(leases(data.path(), "testnet").empty());
    }
    execHere({"ip", "link", "del", "notabr"});
}

TEST_CASE("a failed ADD undoes every finished step", "[bridge]") {
    TempDir data;
    PluginDir dir(true, true);
    ScratchNetns c;
    // The container already has an interface of that name: the veth cannot be created.
    REQUIRE(c.exec({"ip", "link", "add", "eth0", "type", "veth", "peer", "name", "x0"}).exitCode ==
            0);
    json conf = bridgeConfig("1.0.0", "tbr-undo", data.path(), {"10.17.0.0/24"});
    auto add = call(dir, "ADD", "u1", c.path(), conf);
    CHECK(add.exitCode != 0);
    CHECK(hostVeths().empty());
    CHECK(leases(data.path(), "testnet").empty());

    // IPAM fails (range exhausted) after the veth exists: the veth goes away again.
    ScratchNetns d, e;
    json tiny = bridgeConfig("1.0.0", "tbr-undo", data.path(), {"10.18.0.0/30"});
    REQUIRE(call(dir, "ADD", "u2", d.path(), tiny).exitCode == 0);
    auto full = call(dir, "ADD", "u3", e.path(), tiny);
    INFO(full.out);
    CHECK(full.exitCode != 0);
    CHECK(hostVeths().size() == 1);
    CHECK(addressesIn(e, "eth0").empty());
    CHECK(e.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
    CHECK(call(dir, "DEL", "u2", d.path(), tiny).exitCode == 0);
}

TEST_CASE("STATUS and GC forward to IPAM", "[bridge]") {
    TempDir data;
    PluginDir dir(true, true);
    ScratchNetns a, b;
    json conf = bridgeConfig("1.1.0", "tbr-gc", data.path(), {"10.20.0.0/24"});
    auto addA = call(dir, "ADD", "keep", a.path(), conf);
    auto addB = call(dir, "ADD", "orphan", b.path(), conf);
    REQUIRE(addA.exitCode == 0);
    REQUIRE(addB.exitCode == 0);
    REQUIRE(leases(data.path(), "testnet").size() == 2);

    auto status = runPlugin(dir.bridge(), "STATUS", {{"CNI_PATH", dir.path()}}, conf.dump());
    INFO(status.out);
    CHECK(status.exitCode == 0);

    json gc = conf;
    gc["cni.dev/valid-attachments"] = json::array({{{"containerID", "keep"}, {"ifname", "eth0"}}});
    auto r = runPlugin(dir.bridge(), "GC", {{"CNI_PATH", dir.path()}}, gc.dump());
    INFO(r.out);
    CHECK(r.exitCode == 0);
    CHECK(leases(data.path(), "testnet") == std::vector<std::string>{"10.20.0.2"});

    // STATUS on a pre-1.1.0 config is refused with code 1, as the spec requires.
    json old = conf;
    old["cniVersion"] = "1.0.0";
    auto s2 = runPlugin(dir.bridge(), "STATUS", {{"CNI_PATH", dir.path()}}, old.dump());
    CHECK(s2.exitCode != 0);
    CHECK((*s2.json)["code"] == 1);
    CHECK(call(dir, "DEL", "keep", a.path(), conf).exitCode == 0);
    CHECK(call(dir, "DEL", "orphan", b.path(), conf).exitCode == 0);
}
