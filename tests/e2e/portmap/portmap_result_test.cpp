// What portmap ADD prints when prevResult has no address for CNI_IFNAME: the prevResult, untouched,
// with nothing installed — compared key by key with the reference plugin (/usr/lib/cni/portmap)
// given the same input. And the reference's choice of addresses: an IP without `interface` is the
// container's (it is mapped, traffic arrives).
#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/e2e/nat/tcp_probe.hpp"
#include "tests/e2e/portmap/pm_world.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::test;
using nlohmann::json;

namespace {

constexpr const char* kReference = "/usr/lib/cni/portmap";

json conf(const std::string& backend, const json& prev) {
    return {{"cniVersion", "1.0.0"},
            {"name", "pmres"},
            {"type", "portmap"},
            {"backend", backend},
            {"runtimeConfig",
             {{"portMappings", json::array({{{"hostPort", 8080}, {"containerPort", 80}}})}}},
            {"prevResult", prev}};
}

PluginRun run(const std::string& binary, const std::string& command, const ScratchNetns& ns,
              const json& in) {
    return runPlugin(binary, command,
                     {{"CNI_CONTAINERID", "r1"},
                      {"CNI_NETNS", ns.path()},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", binDir()}},
                     in.dump());
}

/// The result without an empty "dns" object: the reference (Go) always prints `"dns":{}`, we omit
/// it when empty; both mean "no DNS information" (CNI spec: dns is optional).
json normalized(json r) {
    if (r.contains("dns") && r["dns"].empty()) r.erase("dns");
    return r;
}

const json kHostSide = {{"name", "veth1"}, {"mac", "02:00:00:00:00:01"}};
const json kOtherCtr = {{"name", "eth1"}, {"mac", "02:00:00:00:00:02"}, {"sandbox", "/x"}};
const json kEth0 = {{"name", "eth0"}, {"mac", "02:00:00:00:00:03"}, {"sandbox", "/x"}};

} // namespace

TEST_CASE("a prevResult without an address for CNI_IFNAME is printed as given, like the reference",
          "[portmap][result]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    PmHosts world;
    ScratchNetns c;
    const std::vector<std::pair<std::string, json>> cases = {
        {"no ips at all",
         {{"cniVersion", "1.0.0"}, {"interfaces", json::array({kEth0})}, {"dns", json::object()}}},
        {"the address is on the host-side interface",
         {{"cniVersion", "1.0.0"},
          {"interfaces", json::array({kHostSide, kEth0})},
          {"ips", json::array({{{"address", "10.83.0.2/24"}, {"interface", 0}}})},
          {"routes", json::array({{{"dst", "0.0.0.0/0"}, {"gw", "10.83.0.1"}}})}}},
        {"the addresses are on another container interface",
         {{"cniVersion", "1.0.0"},
          {"interfaces", json::array({kOtherCtr, kEth0})},
          {"ips", json::array({{{"address", "10.83.0.2/24"}, {"interface", 0}},
                               {{"address", "2001:db8:83::2/64"}, {"interface", 0}}})},
          {"dns", {{"nameservers", json::array({"192.0.2.53"})}}}}}};
    for (const auto& [what, prev] : cases) {
        INFO(what);
        auto ours = run(binDir() + "/portmap", "ADD", c, conf(backend, prev));
        auto ref = run(kReference, "ADD", c, conf(backend, prev));
        INFO("ours: " << ours.out << ours.err << "\nreference: " << ref.out << ref.err);
        REQUIRE(ours.exitCode == 0);
        REQUIRE(ours.json);
        CHECK(normalized(*ours.json) == normalized(prev));
        if (std::filesystem::exists(kReference)) {
            REQUIRE(ref.exitCode == 0);
            REQUIRE(ref.json);
            CHECK(normalized(*ours.json) == normalized(*ref.json));
        }
        std::string state = iptNat4() + iptNat6() + nftRuleset();
        INFO(state);
        CHECK(state.find("8080") == std::string::npos); // nothing mapped by either
        CHECK(run(binDir() + "/portmap", "DEL", c, conf(backend, prev)).exitCode == 0);
        if (std::filesystem::exists(kReference))
            CHECK(run(kReference, "DEL", c, conf(backend, prev)).exitCode == 0);
    }
}

TEST_CASE("an IP without `interface` is the container's address, as with the reference",
          "[portmap][result]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    PmHosts world;
    PmNet net("pmres", "tpmx0", "10.84.0.0/24", "", json::object());
    ScratchNetns c;
    // the bridge alone makes the container's address; portmap is then run by hand
    nlohmann::json bridgeOnly = {{"cniVersion", "1.0.0"},
                                 {"name", "pmres"},
                                 {"type", "bridge"},
                                 {"bridge", "tpmx0"},
                                 {"isDefaultGateway", true},
                                 {"ipam",
                                  {{"type", "host-local"},
                                   {"subnet", "10.84.0.0/24"},
                                   {"dataDir", net.data.path().string()}}}};
    auto br = run(binDir() + "/bridge", "ADD", c, bridgeOnly);
    INFO(br.out << br.err);
    REQUIRE(br.exitCode == 0);
    json prev = *br.json;
    for (auto& ip : prev["ips"])
        ip.erase("interface");
    auto add = run(binDir() + "/portmap", "ADD", c, conf(backend, prev));
    INFO(add.out << add.err << iptNat4() << nftRuleset());
    REQUIRE(add.exitCode == 0);
    CHECK(*add.json == prev);
    auto peer = acceptOnce(c.netns(), 80, 3500);
    CHECK(connectFrom(world.remote(), kHost4, 8080, 3000));
    CHECK(peer.get() == kRemote4);
    CHECK(run(binDir() + "/portmap", "DEL", c, conf(backend, prev)).exitCode == 0);
    CHECK((iptNat4() + nftRuleset()).find("pmres/r1") == std::string::npos);
    CHECK(run(binDir() + "/bridge", "DEL", c, bridgeOnly).exitCode == 0);
}
