// Our bridge with the reference host-local, and the reference bridge with our host-local.
#include <catch2/catch.hpp>

#include "tests/e2e/bridge/bridge_env.hpp"

using namespace tether::test;
using namespace tether::test::bridgetest;
using nlohmann::json;

TEST_CASE("bridge and host-local mix with the reference plugins", "[bridge][interop]") {
    if (referencePlugin("bridge").empty() || referencePlugin("host-local").empty())
        FAIL("reference plugins missing from /usr/lib/cni (install containernetworking-plugins)");
    for (bool ourBridge : {true, false}) {
        DYNAMIC_SECTION((ourBridge ? "our bridge + reference host-local"
                                   : "reference bridge + our host-local")) {
            TempDir data;
            PluginDir dir(ourBridge, !ourBridge);
            ScratchNetns a, b;
            json conf = bridgeConfig("1.0.0", ourBridge ? "tbr-mix1" : "tbr-mix2", data.path(),
                                     {"10.19.0.0/24"}, {{"isGateway", true}});
            auto addA = call(dir, "ADD", "ma", a.path(), conf);
            auto addB = call(dir, "ADD", "mb", b.path(), conf);
            INFO(addA.out << addA.err << addB.out);
            REQUIRE(addA.exitCode == 0);
            REQUIRE(addB.exitCode == 0);
            CHECK(addressesIn(a, "eth0") == std::vector<std::string>{"10.19.0.2/24"});
            CHECK(a.exec({"ping", "-c2", "-i0.2", "-W2", "10.19.0.3"}).exitCode == 0);
            CHECK(call(dir, "CHECK", "ma", a.path(), withPrev(conf, *addA.json)).exitCode == 0);
            CHECK(call(dir, "DEL", "ma", a.path(), withPrev(conf, *addA.json)).exitCode == 0);
            CHECK(call(dir, "DEL", "mb", b.path(), withPrev(conf, *addB.json)).exitCode == 0);
            CHECK(leases(data.path(), "testnet").empty());
            CHECK(hostVeths().empty());
        }
    }
}
