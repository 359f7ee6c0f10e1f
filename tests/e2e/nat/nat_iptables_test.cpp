// The iptables NAT backend (`ipMasqBackend` / `backend: "iptables"`) as a user observes it, in the
// same world as nat_test.cpp (nat_hosts.json: "host" runs the plugins, "remote" is a peer with no
// route to container subnets): what the remote sees, what reaches a container through host:port,
// what `iptables-save -t nat` shows before and after DEL, a backend switched between ADD and DEL,
// GC, CHECK, and refused configs.
#include <filesystem>
#include <fstream>
#include <thread>

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

/// The NAT network "iptnet" on `backend`; setBackend() switches it between calls.
struct Net : test::NatNet {
    Net(const std::string& subnet, const std::string& backend)
        : NatNet({.name = "iptnet", .bridge = "tipt0", .subnet = subnet, .backend = backend}) {}
};

using test::portMapAttachment;

using test::iptNat4;
using test::iptNat6;
using test::nftRuleset;
bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

} // namespace

TEST_CASE("iptables backend: a remote host sees the container's connection from the host's address",
          "[nat][iptables]") {
    test::NatHosts world;
    Net net("10.70.0.0/24", "iptables");
    test::ScratchNetns c;
    auto add = addNetwork(net.paths, net.list, portMapAttachment("m1", c));
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    std::string rules = iptNat4();
    INFO(rules);
    CHECK(
        has(rules,
            "-A POSTROUTING -m comment --comment \"tether: container NAT\" -j TETHER-POSTROUTING"));
    CHECK(has(rules, "-s 10.70.0.2/32 ! -d 10.70.0.0/24 -m comment --comment \"iptnet/m1/eth0\" -j "
                     "TETHER-MASQ-"));
    CHECK(!has(nftRuleset(), "iptnet/m1")); // nothing of it in table inet tether

    auto peer = test::acceptOnce(world.remote(), 9000);
    CHECK(test::connectFrom(c.netns(), kRemoteAddr, 9000));
    CHECK(peer.get() == kHostAddr);
    CHECK(checkNetwork(net.paths, net.list, portMapAttachment("m1", c)));

    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("m1", c)));
    rules = iptNat4();
    CHECK(!has(rules, "TETHER"));
    CHECK(!has(rules, "iptnet"));
}

TEST_CASE("iptables backend: host ports reach the container; conflicts are refused whole",
          "[nat][iptables][portmap]") {
    test::NatHosts world;
    Net net("10.71.0.0/24", "iptables");
    test::ScratchNetns server, other;
    json map = json::array({{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}});
    auto add = addNetwork(net.paths, net.list, portMapAttachment("srv", server, map));
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("cli", other)));
    INFO(iptNat4());
    CHECK(has(iptNat4(), "-p tcp -m tcp --dport 8080 -m comment --comment \"iptnet/srv/eth0\" -j "
                         "DNAT --to-destination 10.71.0.2:80"));
    CHECK(has(iptNat4(), "-A PREROUTING -m addrtype --dst-type LOCAL"));

    { // remote client through host:port, seen with its own address
        auto peer = test::acceptOnce(server.netns(), 80);
        CHECK(test::connectFrom(world.remote(), kHostAddr, 8080));
        CHECK(peer.get() == kRemoteAddr);
    }
    { // the host itself, on its own address
        auto peer = test::acceptOnce(server.netns(), 80);
        CHECK(test::connectFrom(world.host(), kHostAddr, 8080));
        CHECK(!peer.get().empty());
    }
    { // the host on 127.0.0.1 (route_localnet, masqueraded to the bridge address)
        auto peer = test::acceptOnce(server.netns(), 80);
        CHECK(test::connectFrom(world.host(), "127.0.0.1", 8080));
        CHECK(peer.get() == "10.71.0.1");
    }
    { // another container on the bridge through the host address (hairpin)
        auto peer = test::acceptOnce(server.netns(), 80);
        CHECK(test::connectFrom(other.netns(), kHostAddr, 8080));
        CHECK(peer.get() == "10.71.0.1");
    }
    { // traffic forwarded to a non-local destination is not DNATed
        auto peer = test::acceptOnce(server.netns(), 80, 1500);
        CHECK(!test::connectFrom(world.remote(), "198.51.100.7", 8080, 1000));
        CHECK(peer.get().empty());
    }
    { // a second container asking for the same host port is refused, nothing of it installed
        test::ScratchNetns third;
        json two = json::array({{{"hostPort", 8081}, {"containerPort", 80}},
                                {{"hostPort", 8080}, {"containerPort", 80}}});
        auto clash = addNetwork(net.paths, net.list, portMapAttachment("dup", third, two));
        REQUIRE(!clash);
        CHECK(clash.error().code == Code::Conflict);
        CHECK(has(clash.error().msg,
                  "host port 8080/tcp -> 80 is already mapped by iptnet/srv/eth0"));
        CHECK(!has(iptNat4(), "dup"));
        CHECK(!has(iptNat4(), "8081"));
        auto peer = test::acceptOnce(server.netns(), 80);
        CHECK(test::connectFrom(world.remote(), kHostAddr, 8080));
        CHECK(peer.get() == kRemoteAddr);
    }
    CHECK(checkNetwork(net.paths, net.list, portMapAttachment("srv", server, map)));
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("srv", server, map)));
    CHECK(!has(iptNat4(), "srv"));
    CHECK(!has(iptNat4(), "8080"));
    CHECK(!test::connectFrom(world.remote(), kHostAddr, 8080, 500));
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("cli", other)));
    CHECK(!has(iptNat4(), "TETHER"));
    CHECK(!has(iptNat6(), "TETHER"));
}

TEST_CASE("iptables backend: a port mapped by the other backend is a conflict",
          "[nat][iptables][portmap]") {
    test::NatHosts world;
    Net nft("10.72.0.0/24", "nftables");
    test::ScratchNetns a, b;
    json map = json::array({{{"hostPort", 8383}, {"containerPort", 80}}});
    REQUIRE(addNetwork(nft.paths, nft.list, portMapAttachment("nfta", a, map)));
    nft.setBackend("iptables");
    auto clash = addNetwork(nft.paths, nft.list, portMapAttachment("iptb", b, map));
    REQUIRE(!clash);
    CHECK(clash.error().code == Code::Conflict);
    CHECK(has(clash.error().msg, "already mapped by iptnet/nfta/eth0"));
    CHECK(!has(iptNat4(), "iptb"));
    nft.setBackend("nftables");
    REQUIRE(delNetwork(nft.paths, nft.list, portMapAttachment("nfta", a, map)));
    // and the other way round
    nft.setBackend("iptables");
    REQUIRE(addNetwork(nft.paths, nft.list, portMapAttachment("iptb", b, map)));
    nft.setBackend("nftables");
    auto clash2 = addNetwork(nft.paths, nft.list, portMapAttachment("nfta", a, map));
    REQUIRE(!clash2);
    CHECK(clash2.error().code == Code::Conflict);
    CHECK(has(clash2.error().msg, "already mapped by iptnet/iptb/eth0"));
    REQUIRE(delNetwork(nft.paths, nft.list, portMapAttachment("iptb", b, map)));
    CHECK(!has(iptNat4(), "TETHER"));
}

TEST_CASE("a backend switched between ADD and DEL is still cleaned up", "[nat][iptables]") {
    test::NatHosts world;
    json map = json::array({{{"hostPort", 8484}, {"containerPort", 80}}});
    SECTION("ADD with iptables, DEL with nftables") {
        Net net("10.73.0.0/24", "iptables");
        test::ScratchNetns c;
        REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("sw1", c, map)));
        REQUIRE(has(iptNat4(), "iptnet/sw1/eth0"));
        net.setBackend("nftables");
        REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("sw1", c, map)));
        CHECK(!has(iptNat4(), "TETHER"));
        CHECK(!has(nftRuleset(), "sw1"));
        CHECK(!test::connectFrom(world.remote(), kHostAddr, 8484, 500));
    }
    SECTION("ADD with nftables, DEL with iptables") {
        Net net("10.74.0.0/24", "nftables");
        test::ScratchNetns c;
        REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("sw2", c, map)));
        REQUIRE(has(nftRuleset(), "iptnet/sw2/eth0"));
        net.setBackend("iptables");
        REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("sw2", c, map)));
        CHECK(!has(nftRuleset(), "sw2"));
        CHECK(!has(iptNat4(), "TETHER"));
    }
}

TEST_CASE("iptables backend: CHECK fails when the rules are gone, DEL still succeeds",
          "[nat][iptables]") {
    test::NatHosts world;
    Net net("10.75.0.0/24", "iptables");
    test::ScratchNetns c;
    json map = json::array({{{"hostPort", 8585}, {"containerPort", 80}}});
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("chk", c, map)));
    REQUIRE(checkNetwork(net.paths, net.list, portMapAttachment("chk", c, map)));
    SECTION("the masquerade jump is missing") {
        REQUIRE(test::execHere({"iptables", "-t", "nat", "-F", "TETHER-POSTROUTING"}).exitCode ==
                0);
        auto st = checkNetwork(net.paths, net.list, portMapAttachment("chk", c, map));
        REQUIRE(!st);
        CHECK(has(st.error().msg, "masquerade rule for 10.75.0.2"));
    }
    SECTION("the port mapping is missing") {
        REQUIRE(test::execHere({"iptables", "-t", "nat", "-F", "TETHER-HOSTPORTS"}).exitCode == 0);
        auto st = checkNetwork(net.paths, net.list, portMapAttachment("chk", c, map));
        REQUIRE(!st);
        CHECK(has(st.error().msg, "port mapping 8585/tcp -> 80 of iptnet/chk/eth0 is missing"));
    }
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("chk", c, map)));
    CHECK(!has(iptNat4(), "TETHER"));
}

TEST_CASE("iptables backend: GC removes the rules of attachments that are gone",
          "[nat][iptables]") {
    test::NatHosts world;
    Net net("10.76.0.0/24", "iptables");
    test::ScratchNetns a, b;
    json map = json::array({{{"hostPort", 8686}, {"containerPort", 80}}});
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("live", a, map)));
    REQUIRE(addNetwork(
        net.paths, net.list,
        portMapAttachment("dead", b, json::array({{{"hostPort", 8687}, {"containerPort", 80}}}))));
    for (size_t i : {0, 1}) {
        json conf = net.list.plugins[i];
        conf["cni.dev/valid-attachments"] =
            json::array({{{"containerID", "live"}, {"ifname", "eth0"}}});
        auto r = net.runPlugin(conf["type"].get<std::string>(), "GC", conf);
        INFO(r.out);
        CHECK(r.exitCode == 0);
    }
    std::string rules = iptNat4();
    INFO(rules);
    CHECK(!has(rules, "iptnet/dead"));
    CHECK(!has(rules, "8687"));
    CHECK(has(rules, "iptnet/live"));
    CHECK(checkNetwork(net.paths, net.list, portMapAttachment("live", a, map)));
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("live", a, map)));
    CHECK(!has(iptNat4(), "TETHER"));
}

TEST_CASE("iptables backend: ptp with the chained masquerade plugin", "[nat][iptables]") {
    test::NatHosts world;
    test::TempDir conf, cache, data;
    json l = {{"cniVersion", "1.1.0"},
              {"name", "iptp"},
              {"plugins", json::array({{{"type", "ptp"},
                                        {"ipam",
                                         {{"type", "host-local"},
                                          {"subnet", "10.77.0.0/24"},
                                          {"routes", json::array({{{"dst", "0.0.0.0/0"}}})},
                                          {"dataDir", data.path().string()}}}},
                                       {{"type", "masquerade"}, {"backend", "iptables"}}})}};
    std::ofstream(conf / "p.conflist") << l.dump();
    NetPaths paths{.configDir = conf.path(), .cniPath = test::binDir(), .cacheDir = cache.path()};
    auto list = resolveNetwork(paths, "iptp");
    REQUIRE(list);
    test::ScratchNetns c;
    auto add = addNetwork(paths, *list, portMapAttachment("p1", c));
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    CHECK(has(iptNat4(), "iptp/p1/eth0"));
    auto peer = test::acceptOnce(world.remote(), 9001);
    CHECK(test::connectFrom(c.netns(), kRemoteAddr, 9001));
    CHECK(peer.get() == kHostAddr);
    CHECK(checkNetwork(paths, *list, portMapAttachment("p1", c)));
    REQUIRE(delNetwork(paths, *list, portMapAttachment("p1", c)));
    CHECK(!has(iptNat4(), "TETHER"));
}

TEST_CASE("iptables backend: stale UDP conntrack entries of a mapped port are cleared on ADD",
          "[nat][iptables][portmap]") {
    test::NatHosts world;
    Net net("10.78.0.0/24", "iptables");
    test::ScratchNetns c, first;
    // Conntrack only tracks once NAT hooks exist: a first container creates our chains.
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("first", first)));
    REQUIRE(
        world.run("remote", {"bash", "-c", "echo x > /dev/udp/192.0.2.1/5454; true"}).exitCode ==
        0);
    REQUIRE(
        has(test::execHere({"conntrack", "-L", "-p", "udp", "--dport", "5454"}).out, "dport=5454"));
    json map = json::array({{{"hostPort", 5454}, {"containerPort", 53}, {"protocol", "udp"}}});
    REQUIRE(addNetwork(net.paths, net.list, portMapAttachment("udp", c, map)));
    CHECK(!has(test::execHere({"conntrack", "-L", "-p", "udp", "--dport", "5454"}).out,
               "dport=5454"));
    CHECK(has(iptNat4(), "-p udp -m udp --dport 5454"));
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("udp", c, map)));
    REQUIRE(delNetwork(net.paths, net.list, portMapAttachment("first", first)));
    CHECK(!has(iptNat4(), "TETHER"));
}

TEST_CASE("iptables backend: concurrent ADDs and DELs lose nothing and leave nothing",
          "[nat][iptables]") {
    test::NatHosts world;
    const Net net("10.80.0.0/24", "iptables"); // runs its plugins by hand
    test::ScratchNetns c;
    constexpr int kCount = 8;
    auto conf = [&](int i) {
        json prev = {{"cniVersion", "1.1.0"},
                     {"interfaces", json::array({{{"name", "eth0"}, {"sandbox", c.path()}}})},
                     {"ips", json::array({{{"address", "10.80.0." + std::to_string(i + 2) + "/24"},
                                           {"interface", 0}}})}};
        return json{{"type", "masquerade"}, {"backend", "iptables"}, {"prevResult", prev}};
    };
    auto all = [&](const std::string& command) {
        std::vector<test::PluginRun> runs(kCount);
        std::vector<std::thread> threads;
        for (int i = 0; i < kCount; ++i)
            threads.emplace_back([&, i] {
                runs[size_t(i)] = net.runPlugin("masquerade", command, conf(i),
                                                {{"CNI_CONTAINERID", "par" + std::to_string(i)},
                                                 {"CNI_NETNS", c.path()},
                                                 {"CNI_IFNAME", "eth0"}});
            });
        for (auto& t : threads)
            t.join();
        for (const auto& r : runs) {
            INFO(command << ": " << r.out << r.err);
            CHECK(r.exitCode == 0);
        }
    };
    all("ADD");
    std::string rules = iptNat4();
    INFO(rules);
    for (int i = 0; i < kCount; ++i)
        CHECK(has(rules, "-s 10.80.0." + std::to_string(i + 2) +
                             "/32 ! -d 10.80.0.0/24 -m comment --comment \"iptnet/par" +
                             std::to_string(i) + "/eth0\""));
    all("DEL");
    CHECK(!has(iptNat4(), "TETHER"));
}

TEST_CASE("an unknown NAT backend is refused with code 7 naming the key and value",
          "[nat][iptables]") {
    test::NatHosts world;
    const Net net("10.79.0.0/24", "iptables"); // runs its plugins by hand
    test::ScratchNetns c;
    json prev = {{"cniVersion", "1.1.0"},
                 {"interfaces", json::array({{{"name", "eth0"}, {"sandbox", c.path()}}})},
                 {"ips", json::array({{{"address", "10.79.0.2/24"}, {"interface", 0}}})}};
    struct Bad {
        std::string type;
        json conf;
        std::string text;
    };
    std::vector<Bad> cases = {
        {"bridge",
         {{"type", "bridge"},
          {"bridge", "tbad0"},
          {"ipMasq", true},
          {"ipMasqBackend", "ebpf"},
          {"ipam", {{"type", "host-local"}, {"subnet", "10.79.0.0/24"}}}},
         "invalid ipMasqBackend \"ebpf\""},
        {"ptp",
         {{"type", "ptp"},
          {"ipMasq", true},
          {"ipMasqBackend", "xdp"},
          {"ipam", {{"type", "host-local"}, {"subnet", "10.79.0.0/24"}}}},
         "invalid ipMasqBackend \"xdp\""},
        {"masquerade",
         {{"type", "masquerade"}, {"backend", "pf"}, {"prevResult", prev}},
         "invalid backend \"pf\""},
        {"portmap",
         {{"type", "portmap"},
          {"backend", "IPTABLES"},
          {"prevResult", prev},
          {"runtimeConfig",
           {{"portMappings", json::array({{{"hostPort", 8787}, {"containerPort", 80}}})}}}},
         "invalid backend \"IPTABLES\""},
    };
    std::string before = iptNat4() + nftRuleset();
    for (const auto& bad : cases) {
        auto r = net.runPlugin(
            bad.type, "ADD", bad.conf,
            {{"CNI_CONTAINERID", "bad"}, {"CNI_NETNS", c.path()}, {"CNI_IFNAME", "eth0"}});
        INFO(bad.type << ": " << r.out);
        CHECK(r.exitCode == 1);
        REQUIRE(r.json);
        CHECK((*r.json)["code"] == 7);
        CHECK(has((*r.json)["msg"].get<std::string>(), bad.text));
    }
    CHECK(iptNat4() + nftRuleset() == before);
    CHECK(test::execHere({"ip", "link", "show", "tbad0"}).exitCode !=
          0); // refused before any change
}
