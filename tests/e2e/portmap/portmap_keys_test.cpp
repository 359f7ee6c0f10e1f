// portmap's reference keys as a user observes them, on both backends (nftables and
// `"backend": "iptables"`), in the pm_hosts.json world: conditionsV4/V6 restrict which
// destinations are DNATed, hostIP "0.0.0.0" / "::" / a specific address restrict family and
// address, a repeated ADD of the same attachment replaces its mapping. Every case connects for
// real (TCP, both families) and ends with DEL leaving nothing of the network behind.
#include <catch2/catch.hpp>

#include "libcni/net_ops.hpp"
#include "tests/e2e/nat/tcp_probe.hpp"
#include "tests/e2e/portmap/pm_world.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::test;
using nlohmann::json;

namespace {

/// The peer address the container's listener on `cport` saw for a connection from `from` to
/// ip:port, or "" when no connection arrived (the connect itself may still have failed). The
/// connect waits 3 s: long enough for a SYN retransmit while IPv6 neighbours are resolved.
std::string reach(const net::Netns& from, const ScratchNetns& ctr, const std::string& ip, int port,
                  int cport = 80) {
    const bool v6 = ip.find(':') != std::string::npos;
    auto peer = acceptOnce(ctr.netns(), cport, 3500, v6);
    bool connected = connectFrom(from, ip, port, 3000);
    std::string seen = peer.get();
    return connected ? seen : std::string();
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

/// Nothing of network `name` is left in either backend.
void requireClean(const std::string& name) {
    std::string all = iptNat4() + iptNat6() + nftRuleset();
    INFO(all);
    CHECK(all.find(name + "/") == std::string::npos);
    CHECK(all.find("TETHER-DN-") == std::string::npos);
}

} // namespace

TEST_CASE("conditionsV4/V6 DNAT only the matching destination", "[portmap][conditions]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    PmHosts world;
    PmNet net("pmcond", "tpmc0", "10.80.0.0/24", "2001:db8:80::/64",
              {{"backend", backend},
               {"conditionsV4", {"-d", "192.0.2.1/32"}},
               {"conditionsV6", {"-d", "2001:db8:2::1/128"}}});
    ScratchNetns c;
    json map = json::array({{{"hostPort", 8080}, {"containerPort", 80}}});
    auto add = rt::addNetwork(net.paths, net.list, portMapAttachment("c1", c, map));
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    INFO(iptNat4() + iptNat6() + nftRuleset());
    if (backend == "iptables") {
        CHECK(iptNat4().find("-d 192.0.2.1/32") != std::string::npos);
        CHECK(iptNat6().find("-d 2001:db8:2::1/128") != std::string::npos);
    }
    // the matching destinations reach the container, seen with the remote's own address
    CHECK(reach(world.remote(), c, kHost4, 8080) == kRemote4);
    CHECK(reach(world.remote(), c, kHost6, 8080) == kRemote6);
    // another local address of the host is not DNATed: nothing arrives
    CHECK(reach(world.remote(), c, kHost4b, 8080).empty());
    CHECK(reach(world.remote(), c, kHost6b, 8080).empty());
    CHECK(rt::checkNetwork(net.paths, net.list, portMapAttachment("c1", c, map)));
    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("c1", c, map)));
    requireClean("pmcond");
    CHECK(reach(world.remote(), c, kHost4, 8080).empty());
}

TEST_CASE("hostIP 0.0.0.0 maps IPv4 only, :: IPv6 only, an address only that address",
          "[portmap][hostip]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    PmHosts world;
    PmNet net("pmhip", "tpmh0", "10.81.0.0/24", "2001:db8:81::/64", {{"backend", backend}});
    ScratchNetns c;
    json map = json::array({{{"hostPort", 8081}, {"containerPort", 80}, {"hostIP", "0.0.0.0"}},
                            {{"hostPort", 8082}, {"containerPort", 80}, {"hostIP", "::"}},
                            {{"hostPort", 8083}, {"containerPort", 80}, {"hostIP", kHost4b}},
                            {{"hostPort", 8084}, {"containerPort", 80}, {"hostIP", kHost6b}}});
    auto add = rt::addNetwork(net.paths, net.list, portMapAttachment("c1", c, map));
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    INFO(iptNat4() + iptNat6() + nftRuleset());
    // 0.0.0.0: every IPv4 address, no IPv6
    CHECK(reach(world.remote(), c, kHost4, 8081) == kRemote4);
    CHECK(reach(world.remote(), c, kHost4b, 8081) == kRemote4);
    CHECK(reach(world.remote(), c, kHost6, 8081).empty());
    // ::: every IPv6 address, no IPv4
    CHECK(reach(world.remote(), c, kHost6, 8082) == kRemote6);
    CHECK(reach(world.remote(), c, kHost6b, 8082) == kRemote6);
    CHECK(reach(world.remote(), c, kHost4, 8082).empty());
    // a specific address: that one only
    CHECK(reach(world.remote(), c, kHost4b, 8083) == kRemote4);
    CHECK(reach(world.remote(), c, kHost4, 8083).empty());
    CHECK(reach(world.remote(), c, kHost6, 8083).empty());
    CHECK(reach(world.remote(), c, kHost6b, 8084) == kRemote6);
    CHECK(reach(world.remote(), c, kHost6, 8084).empty());
    CHECK(reach(world.remote(), c, kHost4b, 8084).empty());
    if (backend == "iptables") { // each family's table holds only its own mappings
        CHECK(iptNat4().find("--dport 8082") == std::string::npos);
        CHECK(iptNat4().find("--dport 8084") == std::string::npos);
        CHECK(iptNat6().find("--dport 8081") == std::string::npos);
        CHECK(iptNat6().find("--dport 8083") == std::string::npos);
    }
    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("c1", c, map)));
    requireClean("pmhip");
}

TEST_CASE("a repeated ADD of the same attachment replaces its own mappings", "[portmap][readd]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    PmHosts world;
    PmNet net("pmre", "tpmr0", "10.82.0.0/24", "", {{"backend", backend}});
    ScratchNetns c;
    json first = json::array({{{"hostPort", 8080}, {"containerPort", 80}}});
    auto add = rt::addNetwork(net.paths, net.list, portMapAttachment("c1", c, first));
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    REQUIRE(reach(world.remote(), c, kHost4, 8080) == kRemote4);

    // portmap again for the same container and ifname, as a runtime retrying ADD does
    json conf = {{"cniVersion", "1.1.0"},
                 {"name", "pmre"},
                 {"type", "portmap"},
                 {"backend", backend},
                 {"prevResult", *add}};
    auto again = [&](const json& mappings) {
        json in = conf;
        in["runtimeConfig"] = {{"portMappings", mappings}};
        return runPlugin(binDir() + "/portmap", "ADD",
                         {{"CNI_CONTAINERID", "c1"},
                          {"CNI_NETNS", c.path()},
                          {"CNI_IFNAME", "eth0"},
                          {"CNI_PATH", binDir()}},
                         in.dump());
    };
    auto same = again(first);
    INFO(same.out << same.err);
    REQUIRE(same.exitCode == 0);
    std::string state = backend == "iptables" ? iptNat4() : nftRuleset();
    INFO(state);
    CHECK(count(state, "pmre/c1/eth0") > 0);
    if (backend == "iptables")
        CHECK(count(state, "--dport 8080 -m comment --comment \"pmre/c1/eth0\" -j DNAT") == 1);
    else
        CHECK(count(state, "tcp . 8080 comment \"pmre/c1/eth0\" : 10.82.0.2 . 80") == 1);
    CHECK(reach(world.remote(), c, kHost4, 8080) == kRemote4);

    json second = json::array({{{"hostPort", 9090}, {"containerPort", 80}}});
    auto moved = again(second);
    INFO(moved.out << moved.err);
    REQUIRE(moved.exitCode == 0);
    CHECK(reach(world.remote(), c, kHost4, 9090) == kRemote4);
    CHECK(reach(world.remote(), c, kHost4, 8080).empty()); // the old mapping is gone
    state = iptNat4() + nftRuleset();
    CHECK(state.find("8080") == std::string::npos);

    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("c1", c, second)));
    requireClean("pmre");
    CHECK(reach(world.remote(), c, kHost4, 9090).empty());
}
