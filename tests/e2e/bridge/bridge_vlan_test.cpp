// `vlan` with a gateway. The reference puts the gateway of VLAN N on a veth pair "<bridge>.<N>"
// whose other end is a bridge port on VLAN N (untagged, PVID), since with VLAN filtering the
// bridge device itself is not on the container's VLAN. Ours does the same. Both need a kernel
// with bridge VLAN filtering: where it is missing, both refuse `vlan` and leave nothing behind.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/e2e/bridge/bridge_env.hpp"

using namespace tether::test;
using namespace tether::test::bridgetest;
using nlohmann::json;

namespace {

bool kernelHasVlanFiltering() {
    bool ok = execHere({"ip", "link", "add", "brprobe", "type", "bridge", "vlan_filtering", "1"})
                  .exitCode == 0;
    execHere({"ip", "link", "del", "brprobe"});
    return ok;
}

bool linkExists(const std::string& name) {
    return execHere({"ip", "link", "show", name}).exitCode == 0;
}

} // namespace

TEST_CASE("bridge vlan + isGateway: same outcome as the reference on this kernel",
          "[bridge][vlan]") {
    const bool filtering = kernelHasVlanFiltering();
    std::vector<bool> sides = {true};
    if (!referencePlugin("bridge").empty()) sides.push_back(false);
    for (bool ours : sides) {
        INFO((ours ? "ours" : "reference") << ", VLAN filtering " << filtering);
        TempDir data;
        PluginDir dir(ours, true);
        ScratchNetns c;
        json conf = bridgeConfig("1.0.0", "brv", data.path(), {"10.81.0.0/24"},
                                 {{"vlan", 10}, {"isGateway", true}});
        auto add = call(dir, "ADD", "vl", c.path(), conf);
        INFO(add.out);
        if (!filtering) {
            // No VLAN filtering: both refuse, and nothing is left: no bridge, veth or lease.
            CHECK(add.exitCode == 1);
            CHECK(add.out.find("not supported") != std::string::npos);
            CHECK(!linkExists("brv"));
            CHECK(hostVeths().empty());
            CHECK(leases(data.path(), conf["name"]).empty());
            continue;
        }
        REQUIRE(add.exitCode == 0);
        // The gateway lives on brv.10, which the result lists after the container.
        CHECK(linkExists("brv.10"));
        auto gw = execHere({"ip", "-j", "-4", "addr", "show", "brv.10"}).json();
        REQUIRE(gw.size() == 1);
        CHECK(gw[0]["addr_info"][0]["local"] == "10.81.0.1");
        CHECK(add.json->at("interfaces").back()["name"] == "brv.10");
        // What the user relies on: the container on VLAN 10 reaches its gateway.
        CHECK(c.exec({"ping", "-c1", "-W2", "10.81.0.1"}).exitCode == 0);
        CHECK(call(dir, "DEL", "vl", c.path(), withPrev(conf, *add.json)).exitCode == 0);
        execHere({"ip", "link", "del", "brv.10"});
        execHere({"ip", "link", "del", "brv"});
    }
}
