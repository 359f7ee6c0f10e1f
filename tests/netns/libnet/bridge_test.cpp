#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "libnet/bridge.hpp"
#include "libnet/link.hpp"
#include "libnet/veth.hpp"
#include "tests/netns/libnet/test_links.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::net;

namespace {

nlohmann::json ipLinkDetails(test::ScratchNetns& ns, const std::string& name) {
    auto r = ns.exec({"ip", "-j", "-d", "link", "show", "dev", name});
    REQUIRE(r.exitCode == 0);
    return r.json().at(0);
}

} // namespace

TEST_CASE("ensureBridge creates once and is idempotent", "[bridge]") {
    test::ScratchNetns ns;
    BridgeSpec spec;
    spec.name = "cni0";
    spec.mtu = 1450;
    spec.promisc = true;
    const bool vlans = test::kernelHasBridgeVlans();
    spec.vlanFiltering = vlans;
    auto br = ensureBridge(ns.nl(), spec);
    REQUIRE(br);
    CHECK(br->kind == "bridge");
    CHECK(br->up);
    CHECK(br->promisc);
    auto j = ipLinkDetails(ns, "cni0");
    CHECK(j.at("mtu") == 1450);
    if (vlans) CHECK(j.at("linkinfo").at("info_data").at("vlan_filtering") == 1);
    CHECK_THAT(j.at("flags").dump(), Catch::Contains("\"UP\""));

    auto again = ensureBridge(ns.nl(), spec);
    REQUIRE(again);
    CHECK(again->index == br->index);
    auto count = ns.exec({"ip", "-j", "link", "show", "type", "bridge"});
    CHECK(count.json().size() == 1);
}

TEST_CASE("concurrent ensureBridge calls all succeed on one bridge", "[bridge]") {
    test::ScratchNetns ns;
    constexpr int kWorkers = 8;
    std::vector<int> indexes(kWorkers, -1);
    std::vector<std::string> errors(kWorkers);
    std::vector<std::thread> workers;
    for (int i = 0; i < kWorkers; ++i)
        workers.emplace_back([&, i] {
            auto sock = NetlinkSocket::openIn(ns.netns());
            if (!sock) {
                errors[i] = sock.error().text();
                return;
            }
            auto br = ensureBridge(*sock, BridgeSpec{.name = "race0"});
            if (br)
                indexes[i] = br->index;
            else
                errors[i] = br.error().text();
        });
    for (auto& w : workers)
        w.join();
    for (int i = 0; i < kWorkers; ++i) {
        INFO(errors[i]);
        CHECK(indexes[i] == indexes[0]);
        CHECK(indexes[i] > 0);
    }
    CHECK(ns.exec({"ip", "-j", "link", "show", "type", "bridge"}).json().size() == 1);
}

TEST_CASE("ensureBridge brings up and configures an existing bridge", "[bridge]") {
    test::ScratchNetns ns;
    REQUIRE(ns.exec({"ip", "link", "add", "br1", "type", "bridge"}).exitCode == 0);
    BridgeSpec spec;
    spec.name = "br1";
    spec.promisc = true;
    auto br = ensureBridge(ns.nl(), spec);
    REQUIRE(br);
    CHECK(br->up);
    CHECK(br->promisc);
    CHECK_THAT(ipLinkDetails(ns, "br1").at("flags").dump(), Catch::Contains("\"UP\""));
    spec.vlanFiltering = true;
    auto filtered = ensureBridge(ns.nl(), spec);
    if (test::kernelHasBridgeVlans()) {
        REQUIRE(filtered);
        CHECK(ipLinkDetails(ns, "br1").at("linkinfo").at("info_data").at("vlan_filtering") == 1);
    } else {
        REQUIRE_FALSE(filtered);
        CHECK(filtered.error().errnum == EOPNOTSUPP);
        CHECK_THAT(filtered.error().msg, Catch::Contains("vlan_filtering on bridge br1"));
    }
}

TEST_CASE("a non-bridge link of that name is an error", "[bridge]") {
    test::ScratchNetns ns;
    REQUIRE(ns.exec({"ip", "link", "add", "notbr", "type", "veth", "peer", "name", "notbrp"})
                .exitCode == 0);
    auto br = ensureBridge(ns.nl(), BridgeSpec{.name = "notbr"});
    REQUIRE_FALSE(br);
    CHECK(br.error().code == Code::InvalidConfig);
    CHECK(br.error().msg == "notbr exists and is not a bridge");
    CHECK(ipLinkDetails(ns, "notbr").at("linkinfo").at("info_kind") == "veth");
}

namespace {

int makePort(test::ScratchNetns& ns, int bridgeIndex) {
    VethSpec vs;
    vs.hostName = "port0";
    vs.containerName = "peer0";
    auto pair = createVeth(ns.nl(), ns.nl(), vs);
    REQUIRE(pair);
    REQUIRE(setLinkMaster(ns.nl(), pair->host.index, bridgeIndex));
    return pair->host.index;
}

} // namespace

TEST_CASE("bridge port options", "[bridge]") {
    test::ScratchNetns ns;
    auto br = ensureBridge(ns.nl(), BridgeSpec{.name = "br0"});
    REQUIRE(br);
    int port = makePort(ns, br->index);
    REQUIRE(setBridgePort(ns.nl(), port, {.hairpin = true, .isolated = true, .learning = false}));
    auto slave = ipLinkDetails(ns, "port0").at("linkinfo").at("info_slave_data");
    CHECK(slave.at("hairpin") == true);
    CHECK(slave.at("isolated") == true);
    CHECK(slave.at("learning") == false);
    REQUIRE(setBridgePort(ns.nl(), port, {.hairpin = false}));
    slave = ipLinkDetails(ns, "port0").at("linkinfo").at("info_slave_data");
    CHECK(slave.at("hairpin") == false);
    CHECK(slave.at("isolated") == true);
    CHECK(slave.at("learning") == false);
    REQUIRE(setBridgePort(ns.nl(), port, {}));
}

TEST_CASE("bridge VLANs on a port", "[bridge]") {
    if (!test::kernelHasBridgeVlans()) {
        WARN("skipped: this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
        return;
    }
    test::ScratchNetns ns;
    auto br = ensureBridge(ns.nl(), BridgeSpec{.name = "br0", .vlanFiltering = true});
    REQUIRE(br);
    int port = makePort(ns, br->index);
    REQUIRE(addBridgeVlan(ns.nl(), port, {.vid = 100, .pvid = true, .untagged = true}));
    REQUIRE(addBridgeVlan(ns.nl(), port, {.vid = 200}));
    auto out = ns.exec({"bridge", "-j", "vlan", "show", "dev", "port0"});
    REQUIRE(out.exitCode == 0);
    INFO(out.out);
    bool saw100 = false, saw200 = false;
    for (const auto& dev : out.json()) {
        for (const auto& v : dev.at("vlans")) {
            auto flags = v.contains("flags") ? v.at("flags").dump() : std::string();
            if (v.at("vlan") == 100) {
                saw100 = true;
                CHECK_THAT(flags, Catch::Contains("PVID") && Catch::Contains("Egress Untagged"));
            }
            if (v.at("vlan") == 200) {
                saw200 = true;
                CHECK_THAT(flags, !Catch::Contains("PVID"));
            }
        }
    }
    CHECK(saw100);
    CHECK(saw200);
    REQUIRE(deleteBridgeVlan(ns.nl(), port, 200));
    CHECK_THAT(ns.exec({"bridge", "-j", "vlan", "show", "dev", "port0"}).out,
               !Catch::Contains("200"));
    CHECK(deleteBridgeVlan(ns.nl(), port, 200));
}

TEST_CASE("bridge VLAN id is validated", "[bridge]") {
    test::ScratchNetns ns;
    auto bad = addBridgeVlan(ns.nl(), 1, {.vid = 4095});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Code::InvalidConfig);
}
