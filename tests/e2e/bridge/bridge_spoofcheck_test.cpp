// macspoofchk: a container that changes its MAC loses connectivity; DEL removes its nftables
// objects and only its own.
#include <catch2/catch.hpp>

#include "tests/e2e/bridge/bridge_env.hpp"

using namespace tether::test;
using namespace tether::test::bridgetest;
using nlohmann::json;

namespace {

bool pings(const ScratchNetns& from, const std::string& addr) {
    return from.exec({"ping", "-4", "-c2", "-i0.2", "-W1", addr}).exitCode == 0;
}

std::string bridgeNat() {
    return execHere({"nft", "list", "table", "bridge", "nat"}).out;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1))
        ++n;
    return n;
}

} // namespace

TEST_CASE("macspoofchk drops frames with a foreign source MAC", "[bridge][macspoofchk]") {
    TempDir data;
    PluginDir dir(true, true);
    ScratchNetns a, b;
    json conf = bridgeConfig("1.0.0", "tbr-spoof", data.path(), {"10.21.0.0/24"},
                             {{"isGateway", true}, {"macspoofchk", true}});
    json confA = conf;
    confA["runtimeConfig"] = {{"mac", "02:21:00:00:00:0a"}};
    auto addA = call(dir, "ADD", "sa", a.path(), confA);
    auto addB = call(dir, "ADD", "sb", b.path(), conf);
    INFO(addA.out << addB.out);
    REQUIRE(addA.exitCode == 0);
    REQUIRE(addB.exitCode == 0);

    std::string rules = bridgeNat();
    INFO(rules);
    CHECK(rules.find("comment \"macspoofchk-sa-eth0\"") != std::string::npos);
    CHECK(rules.find("ether saddr 02:21:00:00:00:0a return") != std::string::npos);
    CHECK(count(rules, "drop") == 2);
    CHECK(pings(a, "10.21.0.3"));
    CHECK(pings(a, "10.21.0.1"));

    REQUIRE(a.exec({"ip", "link", "set", "eth0", "address", "02:21:00:00:00:ee"}).exitCode == 0);
    CHECK_FALSE(pings(a, "10.21.0.3"));
    CHECK_FALSE(pings(a, "10.21.0.1"));
    CHECK(pings(b, "10.21.0.1"));

    CHECK(call(dir, "DEL", "sa", a.path(), withPrev(confA, *addA.json)).exitCode == 0);
    rules = bridgeNat();
    CHECK(rules.find("macspoofchk-sa-eth0") == std::string::npos);
    CHECK(rules.find("macspoofchk-sb-eth0") != std::string::npos);
    CHECK(count(rules, "drop") == 1);
    CHECK(call(dir, "DEL", "sa", a.path(), withPrev(confA, *addA.json)).exitCode == 0);
    CHECK(call(dir, "DEL", "sb", b.path(), withPrev(conf, *addB.json)).exitCode == 0);
    CHECK(bridgeNat().find("cni-br-iface") == std::string::npos);
    CHECK(call(dir, "DEL", "sb", b.path(), withPrev(conf, *addB.json)).exitCode == 0);
    CHECK(hostVeths().empty());
    CHECK(leases(data.path(), "testnet").empty());
}

TEST_CASE("a failed ADD removes its macspoofchk rules", "[bridge][macspoofchk]") {
    TempDir data;
    PluginDir dir(true, true);
    ScratchNetns d, e;
    json tiny =
        bridgeConfig("1.0.0", "tbr-spoof2", data.path(), {"10.22.0.0/30"}, {{"macspoofchk", true}});
    auto ok = call(dir, "ADD", "s1", d.path(), tiny);
    REQUIRE(ok.exitCode == 0);
    auto full = call(dir, "ADD", "s2", e.path(), tiny);
    INFO(full.out);
    CHECK(full.exitCode != 0);
    std::string rules = bridgeNat();
    CHECK(rules.find("macspoofchk-s1-eth0") != std::string::npos);
    CHECK(rules.find("macspoofchk-s2-eth0") == std::string::npos);
    CHECK(count(rules, "cni-br-iface-") == 4); // one jump rule + two chains + jump to -mac
    CHECK(call(dir, "DEL", "s1", d.path(), withPrev(tiny, *ok.json)).exitCode == 0);
    CHECK(bridgeNat().find("cni-br-iface") == std::string::npos);
}
