// What a user of masquerade and portmap observes, in scratch namespaces: a netns fixture
// (nat_hosts.json) provides "the host", where the test thread runs the plugins, and a "remote"
// joined to it by a veth with no route to the container subnet; containers hang off our bridge.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "libcni/net_ops.hpp"
#include "tests/e2e/nat/nat_hosts.hpp"
#include "tests/e2e/nat/nat_net.hpp"
#include "tests/e2e/nat/tcp_probe.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::rt;
using nlohmann::json;

namespace {

using test::kHostAddr;
using test::kRemoteAddr;

struct Net : test::NatNet {
    explicit Net(const std::string& subnet, bool snat = true)
        : NatNet({.name = "natnet", .bridge = "tnat0", .subnet = subnet, .snat = snat}) {}
};

using test::portMapAttachment;

} // namespace

TEST_CASE("a remote host sees container connections coming from the host's address", "[nat]") {
    test::NatHosts world;
    Net net("10.60.0.0/24");
    test::ScratchNetns c;
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("m1", c)));
    auto peer = test::acceptOnce(world.remote(), 9000);
    CHECK(test::connectFrom(c.netns(), kRemoteAddr, 9000));
    CHECK(peer.get() == kHostAddr);
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("m1", c)));
    CHECK(test::nftRuleset().find("m1") == std::string::npos);
}

TEST_CASE("port mappings: remote client, host, localhost and hairpin reach the container",
          "[nat][portmap]") {
    test::NatHosts world;
    Net net("10.61.0.0/24");
    test::ScratchNetns server, other;
    json map = json::array({{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}});
    auto add = addNetwork(net.paths, net.list, portMapAttachment("srv", server, map));
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("cli", other)));

    { // remote client through host:port, seen with its own address
        auto peer = test::acceptOnce(server.netns(), 80);
        CHECK(test::connectFrom(world.remote(), kHostAddr, 8080));
        CHECK(peer.get() == kRemoteAddr);
    }
    { // the host itself, on its own address
        auto self = net::Netns::current();
        REQUIRE(self);
        auto peer = test::acceptOnce(server.netns(), 80);
        CHECK(test::connectFrom(*self, kHostAddr, 8080));
        CHECK(!peer.get().empty());
    }
    { // another container on the bridge through the host address (hairpin)
        auto peer = test::acceptOnce(server.netns(), 80);
        CHECK(test::connectFrom(other.netns(), kHostAddr, 8080));
        CHECK(!peer.get().empty());
    }
    { // traffic forwarded to a non-local destination is not DNATed
        auto peer = test::acceptOnce(server.netns(), 80, 1500);
        CHECK(!test::connectFrom(world.remote(), "198.51.100.7", 8080, 1000));
        CHECK(peer.get().empty());
    }
    { // a second container asking for the same host port is refused, the first keeps it
        test::ScratchNetns third;
        auto clash = addNetwork(net.paths, net.list, portMapAttachment("dup", third, map));
        REQUIRE(!clash);
        CHECK(clash.error().code == Code::Conflict);
        CHECK(clash.error().msg.find("already mapped by natnet/srv/eth0") != std::string::npos);
        CHECK(test::nftRuleset().find("dup") == std::string::npos);
        auto peer = test::acceptOnce(server.netns(), 80);
        CHECK(test::connectFrom(world.remote(), kHostAddr, 8080));
        CHECK(peer.get() == kRemoteAddr);
    }
    CHECK(checkNetwork(net.paths, net.list, portMapAttachment("srv", server, map)));
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("srv", server, map)));
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("cli", other)));
    std::string rules = test::nftRuleset();
    CHECK(rules.find("srv") == std::string::npos);
    CHECK(rules.find("8080") == std::string::npos);
    CHECK(!test::connectFrom(world.remote(), kHostAddr, 8080, 500));
}

TEST_CASE("bad port mappings are refused and change nothing", "[nat][portmap]") {
    test::NatHosts world;
    Net net("10.62.0.0/24");
    test::ScratchNetns c;
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("base", c)));
    std::string before = test::nftRuleset();
    struct Bad {
        json mapping;
        std::string text;
    };
    std::vector<Bad> cases = {
        {{{"hostPort", 0}, {"containerPort", 80}}, "hostPort 0"},
        {{{"hostPort", 70000}, {"containerPort", 80}}, "hostPort 70000"},
        {{{"hostPort", 81}, {"containerPort", 80}, {"protocol", "icmp"}}, "protocol \"icmp\""},
        {{{"hostPort", 82}, {"containerPort", 80}, {"hostIP", "not-an-ip"}},
         "hostIP \"not-an-ip\""},
    };
    for (const auto& bad : cases) {
        json conf = net.list.plugins[1];
        conf["runtimeConfig"] = {{"portMappings", json::array({bad.mapping})}};
        conf["prevResult"] = {
            {"cniVersion", "1.1.0"},
            {"interfaces", json::array({{{"name", "eth0"}, {"sandbox", c.path()}}})},
            {"ips", json::array({{{"address", "10.62.0.2/24"}, {"interface", 0}}})}};
        auto r = net.runPlugin(
            "portmap", "ADD", conf,
            {{"CNI_CONTAINERID", "bad"}, {"CNI_NETNS", c.path()}, {"CNI_IFNAME", "eth0"}});
        INFO(r.out);
        CHECK(r.exitCode == 1);
        REQUIRE(r.json);
        CHECK((*r.json)["code"] == 7);
        CHECK((*r.json)["msg"].get<std::string>().find(bad.text) != std::string::npos);
    }
    json dup = json::array(
        {{{"hostPort", 90}, {"containerPort", 80}}, {{"hostPort", 90}, {"containerPort", 81}}});
    test::ScratchNetns d;
    auto r = addNetwork(net.paths, net.list, portMapAttachment("dupreq", d, dup));
    REQUIRE(!r);
    CHECK(r.error().msg.find("conflicting port mappings") != std::string::npos);
    CHECK(test::nftRuleset() == before);
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("base", c)));
}

TEST_CASE("GC removes NAT elements of attachments that are gone", "[nat]") {
    test::NatHosts world;
    Net net("10.63.0.0/24");
    test::ScratchNetns a, b;
    json map = json::array({{{"hostPort", 8181}, {"containerPort", 80}}});
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("live", a)));
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("dead", b, map)));
    for (const auto& type : {"bridge", "portmap"}) {
        json conf = net.list.plugins[std::string(type) == "bridge" ? 0 : 1];
        conf["cni.dev/valid-attachments"] =
            json::array({{{"containerID", "live"}, {"ifname", "eth0"}}});
        auto r = net.runPlugin(type, "GC", conf);
        INFO(r.out);
        CHECK(r.exitCode == 0);
    }
    std::string rules = test::nftRuleset();
    CHECK(rules.find("natnet/dead") == std::string::npos);
    CHECK(rules.find("natnet/live") != std::string::npos);
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("live", a)));
}

TEST_CASE("DEL removes exactly the attachment's elements, whatever prevResult claims",
          "[nat][portmap]") {
    test::NatHosts world;
    Net net("10.65.0.0/24");
    test::ScratchNetns a, b;
    json mapA = json::array({{{"hostPort", 8301}, {"containerPort", 80}}});
    json mapB = json::array({{{"hostPort", 8302}, {"containerPort", 80}}});
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("keya", a, mapA)));
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("keyb", b, mapB)));
    // A DEL as a runtime without a cache would send it: a prevResult naming b's address and
    // mappings naming b's port. The lookup by key finds b's elements (not ours) and must fall
    // back to listing the sets; b keeps everything.
    std::string bIp = "10.65.0.3/24";
    for (const char* type : {"portmap", "bridge"}) {
        json conf = net.list.plugins[std::string(type) == "bridge" ? 0 : 1];
        conf["runtimeConfig"] = {{"portMappings", mapB}};
        conf["prevResult"] = {
            {"cniVersion", "1.1.0"},
            {"interfaces", json::array({{{"name", "eth0"}, {"sandbox", a.path()}}})},
            {"ips", json::array({{{"address", bIp}, {"interface", 0}}})}};
        auto r = net.runPlugin(
            type, "DEL", conf,
            {{"CNI_CONTAINERID", "keya"}, {"CNI_NETNS", a.path()}, {"CNI_IFNAME", "eth0"}});
        INFO(type << ": " << r.out << r.err);
        CHECK(r.exitCode == 0);
    }
    std::string rules = test::nftRuleset();
    CHECK(rules.find("natnet/keya") == std::string::npos);
    CHECK(rules.find(":8301") == std::string::npos);
    auto countOf = [&](const std::string& what) {
        size_t n = 0;
        for (size_t at = rules.find(what); at != std::string::npos; at = rules.find(what, at + 1))
            ++n;
        return n;
    };
    // masq, nomasq, mapping, hairpin SNAT, and the mark entries for hairpin and 127.0.0.1
    CHECK(countOf("natnet/keyb/eth0") == 6);
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("keyb", b, mapB)));
    CHECK(test::nftRuleset().find("natnet/") == std::string::npos);
}

TEST_CASE("the host reaches a mapped port on 127.0.0.1", "[nat][portmap]") {
    test::NatHosts world;
    Net net("10.64.0.0/24");
    test::ScratchNetns server;
    json map = json::array({{{"hostPort", 8282}, {"containerPort", 80}}});
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("lo", server, map)));
    auto self = net::Netns::current();
    REQUIRE(self);
    auto peer = test::acceptOnce(server.netns(), 80);
    CHECK(test::connectFrom(*self, "127.0.0.1", 8282));
    CHECK(peer.get() == "10.64.0.1"); // masqueraded to the bridge address
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("lo", server, map)));
}

TEST_CASE("stale UDP conntrack entries of a mapped port are cleared on ADD", "[nat][portmap]") {
    test::NatHosts world;
    Net net("10.65.0.0/24");
    test::ScratchNetns c, first;
    // Conntrack only tracks once NAT hooks exist: a first container creates our table.
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("first", first)));
    // A UDP flow to host port 5353 exists before the mapping (its packets went to the host).
    REQUIRE(
        world.run("remote", {"bash", "-c", "echo x > /dev/udp/192.0.2.1/5353; true"}).exitCode ==
        0);
    auto before = test::execHere({"conntrack", "-L", "-p", "udp", "--dport", "5353"});
    REQUIRE(before.out.find("dport=5353") != std::string::npos);
    json map = json::array({{{"hostPort", 5353}, {"containerPort", 53}, {"protocol", "udp"}}});
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("udp", c, map)));
    auto after = test::execHere({"conntrack", "-L", "-p", "udp", "--dport", "5353"});
    CHECK(after.out.find("dport=5353") == std::string::npos);
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("udp", c, map)));
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("first", first)));
}
