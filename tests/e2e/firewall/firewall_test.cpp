// What a user of the firewall plugin observes, with real traffic in the NAT tests' world (a
// router "host" running the plugins, a "remote" behind it) and containers on our bridges: a host
// whose FORWARD policy is DROP (Docker's iptables-nft state) still forwards the containers'
// traffic, ingressPolicy same-bridge / isolated hold alone and mixed on one bridge, and nothing of
// ours is left after the last DEL. Every case runs with both backends.
#include <catch2/catch.hpp>

#include "tests/e2e/firewall/fw_net.hpp"
#include "tests/e2e/firewall/fw_probe.hpp"
#include "tests/e2e/nat/nat_hosts.hpp"

using namespace tether;
using test::FwNet;
using test::kRemoteAddr;
using test::reaches;
using test::ScratchNetns;

namespace {

// A bridge network; `range` "a-b" selects host-local's rangeStart/rangeEnd in the subnet.
FwNet makeNet(const std::string& name, const std::string& bridge, const std::string& subnet,
              std::optional<std::string> policy, const std::string& backend, int lo = 0,
              int hi = 0) {
    test::FwNetOptions o{
        .name = name, .bridge = bridge, .subnet = subnet, .policy = policy, .backend = backend};
    if (lo) {
        std::string base = subnet.substr(0, subnet.rfind('.') + 1);
        o.rangeStart = base + std::to_string(lo);
        o.rangeEnd = base + std::to_string(hi);
    }
    return FwNet(std::move(o));
}

std::string add(FwNet& n, const std::string& id, const ScratchNetns& ns) {
    std::string err;
    std::string ip = n.add(id, ns, &err);
    INFO(err);
    REQUIRE(!ip.empty());
    return ip;
}

// Whether the host itself (the fixture's "host", where the test thread is) reaches ip in `to`.
bool hostReaches(const ScratchNetns& to, const std::string& ip) {
    auto self = net::Netns::current();
    REQUIRE(self);
    return reaches(*self, to.netns(), ip);
}

} // namespace

TEST_CASE("a FORWARD-drop host forwards container traffic with firewall, and not without it",
          "[firewall]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    test::NatHosts world;
    test::dropForward();
    { // control: bridge alone, the host's DROP policy wins
        test::FwNetOptions o{.name = "plain", .bridge = "tfw9", .subnet = "10.79.0.0/24"};
        o.firewall = false;
        FwNet plain(o);
        ScratchNetns c;
        add(plain, "c0", c);
        CHECK(!reaches(c.netns(), world.remote(), kRemoteAddr));
        REQUIRE(plain.del("c0", c));
    }
    FwNet n = makeNet("fwnet", "tfw0", "10.70.0.0/24", std::nullopt, backend);
    ScratchNetns c;
    std::string ip = add(n, "c1", c);
    CHECK(reaches(c.netns(), world.remote(), kRemoteAddr));
    // the reference's layout, found where Docker's FORWARD policy is
    std::string ipt = test::iptFilter();
    INFO(ipt);
    CHECK(
        ipt.find("-A FORWARD -m comment --comment \"CNI firewall plugin rules\" -j CNI-FORWARD") !=
        std::string::npos);
    CHECK(ipt.find("-A CNI-FORWARD -s " + ip +
                   "/32 -m comment --comment \"fwnet/c1/eth0\" -j ACCEPT") != std::string::npos);
    CHECK(n.check("c1", c));
    REQUIRE(n.del("c1", c));
    CHECK(!reaches(c.netns(), world.remote(), kRemoteAddr)); // the accept went with DEL
    CHECK(test::leftovers({"tfw0", "fwnet/", "CNI-", ip + "/"}) == "");
    REQUIRE(n.del("c1", c)); // idempotent
}

TEST_CASE("same-bridge: only the host and containers on the same bridge reach the container",
          "[firewall]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    test::NatHosts world;
    FwNet sb = makeNet("sbnet", "tfw0", "10.70.0.0/24", "same-bridge", backend, 10, 49);
    FwNet openA = makeNet("opena", "tfw0", "10.70.0.0/24", "open", backend, 50, 99);
    FwNet openB = makeNet("openb", "tfw1", "10.71.0.0/24", std::nullopt, backend);
    ScratchNetns s1, s2, o, c;
    std::string ipS1 = add(sb, "s1", s1), ipS2 = add(sb, "s2", s2);
    std::string ipO = add(openA, "o", o), ipC = add(openB, "c", c);

    CHECK(reaches(c.netns(), o.netns(), ipO)); // control: routing between the bridges works
    CHECK(reaches(s2.netns(), s1.netns(), ipS1));
    CHECK(reaches(o.netns(), s1.netns(), ipS1)); // same bridge, other network
    CHECK(hostReaches(s1, ipS1));
    CHECK(!reaches(c.netns(), s1.netns(), ipS1));
    CHECK(!reaches(c.netns(), s2.netns(), ipS2));
    CHECK(reaches(s1.netns(), c.netns(), ipC)); // egress is not restricted
    CHECK(reaches(s1.netns(), world.remote(), kRemoteAddr));
    CHECK(sb.check("s1", s1));

    for (auto [n, id, ns] :
         {std::tuple{&sb, "s1", &s1}, {&sb, "s2", &s2}, {&openA, "o", &o}, {&openB, "c", &c}})
        REQUIRE(n->del(id, *ns));
    CHECK(test::leftovers({"tfw0", "tfw1", "sbnet/", "opena/", "openb/", "CNI-"}) == "");
}

TEST_CASE("isolated: no other container reaches the container, not even on its bridge",
          "[firewall]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    test::NatHosts world;
    FwNet iso = makeNet("isonet", "tfw0", "10.70.0.0/24", "isolated", backend, 10, 49);
    FwNet openA = makeNet("opena", "tfw0", "10.70.0.0/24", "open", backend, 50, 99);
    FwNet openB = makeNet("openb", "tfw1", "10.71.0.0/24", std::nullopt, backend);
    ScratchNetns i1, i2, o, o2, c;
    std::string ipI1 = add(iso, "i1", i1);
    add(iso, "i2", i2);
    std::string ipO = add(openA, "o", o);
    add(openA, "o2", o2);
    add(openB, "c", c);

    CHECK(reaches(o2.netns(), o.netns(), ipO)); // control: the bridge switches between ports
    CHECK(reaches(c.netns(), o.netns(), ipO));  // control: and routes from the other bridge
    CHECK(!reaches(i2.netns(), i1.netns(), ipI1));
    CHECK(!reaches(o.netns(), i1.netns(), ipI1));
    CHECK(!reaches(c.netns(), i1.netns(), ipI1));
    CHECK(hostReaches(i1, ipI1));
    CHECK(reaches(i1.netns(), world.remote(), kRemoteAddr));
    CHECK(iso.check("i1", i1));

    REQUIRE(iso.del("i2", i2));
    CHECK(!reaches(o.netns(), i1.netns(), ipI1)); // i1 is still isolated
    for (auto [n, id, ns] :
         {std::tuple{&iso, "i1", &i1}, {&openA, "o", &o}, {&openA, "o2", &o2}, {&openB, "c", &c}})
        REQUIRE(n->del(id, *ns));
    CHECK(test::leftovers({"tfw0", "tfw1", "isonet/", "opena/", "openb/", "CNI-"}) == "");
}

TEST_CASE("same-bridge and isolated mixed on one bridge: each keeps its guarantee, nothing left",
          "[firewall][mixed]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    test::NatHosts world;
    test::dropForward(); // and on a Docker-like host
    FwNet sb = makeNet("sbnet", "tfw0", "10.70.0.0/24", "same-bridge", backend, 10, 49);
    FwNet iso = makeNet("isonet", "tfw0", "10.70.0.0/24", "isolated", backend, 50, 99);
    FwNet openB = makeNet("openb", "tfw1", "10.71.0.0/24", std::nullopt, backend);
    ScratchNetns s1, s2, i1, i2, c;
    std::string ipS1 = add(sb, "s1", s1), ipS2 = add(sb, "s2", s2);
    std::string ipI1 = add(iso, "i1", i1);
    add(iso, "i2", i2);
    std::string ipC = add(openB, "c", c);

    // the reference's defect: its isolated `-i br -o br -j DROP` cuts same-bridge containers off
    CHECK(reaches(s2.netns(), s1.netns(), ipS1));
    CHECK(reaches(s1.netns(), s2.netns(), ipS2));
    CHECK(!reaches(c.netns(), s1.netns(), ipS1));
    CHECK(!reaches(s1.netns(), i1.netns(), ipI1));
    CHECK(!reaches(i2.netns(), i1.netns(), ipI1));
    CHECK(!reaches(c.netns(), i1.netns(), ipI1));
    CHECK(hostReaches(s1, ipS1));
    CHECK(hostReaches(i1, ipI1));
    CHECK(reaches(s1.netns(), c.netns(), ipC));
    CHECK(reaches(i1.netns(), world.remote(), kRemoteAddr));

    REQUIRE(iso.del("i2", i2)); // partial DELs keep the others' guarantees
    REQUIRE(sb.del("s2", s2));
    CHECK(!reaches(s1.netns(), i1.netns(), ipI1));
    CHECK(!reaches(c.netns(), s1.netns(), ipS1));
    CHECK(reaches(s1.netns(), world.remote(), kRemoteAddr));

    REQUIRE(iso.del("i1", i1));
    REQUIRE(sb.del("s1", s1));
    REQUIRE(openB.del("c", c));
    CHECK(test::leftovers({"tfw0", "tfw1", "sbnet/", "isonet/", "openb/", "CNI-", "10.70.0.",
                           "10.71.0."}) == "");
}
