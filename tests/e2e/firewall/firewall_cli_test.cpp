// The firewall plugin run by hand, as a runtime would, in the NAT tests' host: VERSION, bad keys
// (code 7 naming the key, nothing touched), prevResult required, CHECK noticing a missing rule,
// GC keeping only valid attachments, and the firewalld backend without a bus.
#include <catch2/catch.hpp>

#include "tests/e2e/firewall/fw_net.hpp"
#include "tests/e2e/firewall/fw_probe.hpp"
#include "tests/e2e/nat/nat_hosts.hpp"

using namespace tether;
using nlohmann::json;
using test::FwNet;
using test::ScratchNetns;

namespace {

FwNet makeNet(const std::string& backend = "nftables") {
    return FwNet(
        {.name = "clinet", .bridge = "tfw0", .subnet = "10.70.0.0/24", .backend = backend});
}

json prev(const std::string& ip, const std::string& bridge = "tfw0") {
    return {
        {"cniVersion", "1.1.0"},
        {"interfaces", json::array({{{"name", bridge}}, {{"name", "eth0"}, {"sandbox", "/x"}}})},
        {"ips", json::array({{{"address", ip + "/24"}, {"gateway", "10.70.0.1"}}})}};
}

test::PluginRun run(const FwNet& n, const std::string& cmd, json conf, const ScratchNetns& ns,
                    const std::string& id = "c1",
                    std::vector<std::pair<std::string, std::string>> env = {}) {
    env.insert(env.end(),
               {{"CNI_CONTAINERID", id}, {"CNI_NETNS", ns.path()}, {"CNI_IFNAME", "eth0"}});
    return n.run(cmd, std::move(conf), env);
}

// The error code and message of a failed run.
std::pair<int, std::string> error(const test::PluginRun& r) {
    INFO(r.out << r.err);
    REQUIRE(r.exitCode != 0);
    REQUIRE(r.json);
    return {r.json->value("code", 0), r.json->value("msg", std::string())};
}

} // namespace

TEST_CASE("VERSION: CNI 0.4.0 and later only, as the reference", "[firewall][cli]") {
    test::NatHosts world;
    FwNet n = makeNet();
    ScratchNetns ns;
    auto v = run(n, "VERSION", {{"cniVersion", "1.1.0"}}, ns);
    REQUIRE(v.json);
    CHECK((*v.json)["supportedVersions"] == json::array({"0.4.0", "1.0.0", "1.1.0"}));
    auto old = run(n, "ADD", {{"cniVersion", "0.3.1"}, {"prevResult", prev("10.70.0.5")}}, ns);
    CHECK(error(old).first == 1);
}

TEST_CASE("bad values are code 7 naming the key, before anything is touched", "[firewall][cli]") {
    test::NatHosts world;
    FwNet n = makeNet();
    ScratchNetns ns;
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"backend", "nft"},
        {"ingressPolicy", "closed"},
        {"iptablesAdminChainName", "bad chain"},
        {"iptablesAdminChainName", "FORWARD"},
        {"iptablesAdminChainName", std::string(29, 'A')},
        {"firewalldZone", "a zone"}};
    for (const auto& [key, value] : bad) {
        INFO(key << " = " << value);
        for (const char* cmd : {"ADD", "CHECK"}) {
            auto [code, msg] =
                error(run(n, cmd, {{key, value}, {"prevResult", prev("10.70.0.5")}}, ns));
            CHECK(code == 7);
            CHECK(msg.find(key) != std::string::npos);
            CHECK(msg.find(value) != std::string::npos);
        }
    }
    auto [code, msg] =
        error(run(n, "ADD", {{"backend", 5}, {"prevResult", prev("10.70.0.5")}}, ns));
    CHECK(code == 6);
    CHECK(msg.find("backend") != std::string::npos);
    // same-bridge needs the bridge in prevResult.interfaces[0]
    json noIf = prev("10.70.0.5");
    noIf.erase("interfaces");
    auto [c2, m2] =
        error(run(n, "ADD", {{"ingressPolicy", "same-bridge"}, {"prevResult", noIf}}, ns));
    CHECK(c2 == 7);
    CHECK(m2.find("ingressPolicy") != std::string::npos);
    CHECK(test::nftRuleset().find("tether_fw") == std::string::npos);
    CHECK(test::iptFilter().find("CNI-") == std::string::npos);
}

TEST_CASE("ADD requires prevResult; DEL without it succeeds", "[firewall][cli]") {
    test::NatHosts world;
    FwNet n = makeNet();
    ScratchNetns ns;
    for (const char* cmd : {"ADD", "CHECK"}) {
        auto [code, msg] = error(run(n, cmd, json::object(), ns));
        CHECK(code == 7);
        CHECK(msg == "missing prevResult from earlier plugin");
    }
    CHECK(test::nftRuleset().find("tether_fw") == std::string::npos);
    auto del = run(n, "DEL", json::object(), ns);
    INFO(del.out << del.err);
    CHECK(del.exitCode == 0);
}

TEST_CASE("ADD prints prevResult; CHECK notices a rule that went missing", "[firewall][cli]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    test::NatHosts world;
    test::dropForward();
    FwNet n = makeNet(backend);
    ScratchNetns ns;
    json conf = {{"ingressPolicy", "same-bridge"}, {"prevResult", prev("10.70.0.5")}};
    auto add = run(n, "ADD", conf, ns);
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    REQUIRE(add.json);
    CHECK((*add.json)["ips"] == prev("10.70.0.5")["ips"]);
    CHECK(run(n, "CHECK", conf, ns).exitCode == 0);
    if (backend == "nftables")
        REQUIRE(test::execHere({"nft", "flush", "set", "inet", "tether_fw", "sb4"}).exitCode == 0);
    else
        REQUIRE(test::execHere({"iptables", "-F", "CNI-ISOLATION-STAGE-2"}).exitCode == 0);
    auto [code, msg] = error(run(n, "CHECK", conf, ns));
    CHECK(code == 999);
    CHECK(msg.find("clinet/c1/eth0") != std::string::npos);
    CHECK(run(n, "DEL", conf, ns).exitCode == 0);
    CHECK(run(n, "DEL", conf, ns).exitCode == 0);
    CHECK(test::leftovers({"clinet/", "10.70.0.5", "tfw0"}) == "");
}

TEST_CASE("GC removes what belongs to attachments no longer valid, only of its network",
          "[firewall][cli][gc]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    test::NatHosts world;
    test::dropForward();
    FwNet n = makeNet(backend);
    FwNet other(
        {.name = "othernet", .bridge = "tfw1", .subnet = "10.71.0.0/24", .backend = backend});
    ScratchNetns ns;
    json pol = {{"ingressPolicy", "isolated"}};
    for (auto [id, ip] : {std::pair{"live", "10.70.0.5"}, {"gone", "10.70.0.6"}}) {
        json c = pol;
        c["prevResult"] = prev(ip);
        REQUIRE(run(n, "ADD", c, ns, id).exitCode == 0);
    }
    json o = {{"prevResult", prev("10.71.0.7", "tfw1")}};
    REQUIRE(run(other, "ADD", o, ns, "x").exitCode == 0);
    json gc = {{"cni.dev/valid-attachments",
                json::array({{{"containerID", "live"}, {"ifname", "eth0"}}})}};
    auto r = run(n, "GC", gc, ns);
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 0);
    CHECK(test::leftovers({"clinet/gone/"}) == "");
    CHECK(test::leftovers({"clinet/live/"}) != "");
    CHECK(test::leftovers({"othernet/x/"}) != "");
    json live = pol;
    live["prevResult"] = prev("10.70.0.5");
    CHECK(run(n, "CHECK", live, ns, "live").exitCode == 0);
    REQUIRE(run(n, "GC", {{"cni.dev/valid-attachments", json::array()}}, ns).exitCode == 0);
    REQUIRE(run(other, "GC", {{"cni.dev/valid-attachments", json::array()}}, ns).exitCode == 0);
    CHECK(test::leftovers({"clinet/", "othernet/", "CNI-", "10.70.0.", "10.71.0."}) == "");
}

TEST_CASE("firewalld backend without firewalld: a clear error naming the backend",
          "[firewall][cli][firewalld]") {
    test::NatHosts world;
    FwNet n = makeNet("firewalld");
    ScratchNetns ns;
    std::vector<std::pair<std::string, std::string>> env = {
        {"DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/system_bus_socket"}};
    json conf = {{"prevResult", prev("10.70.0.5")}};
    for (const char* cmd : {"ADD", "STATUS"}) {
        auto [code, msg] = error(run(n, cmd, conf, ns, "c1", env));
        CHECK(code == 50);
        CHECK(msg.find("firewall backend \"firewalld\"") != std::string::npos);
    }
    CHECK(run(n, "DEL", conf, ns, "c1", env).exitCode == 0); // nothing to remove then
    CHECK(test::nftRuleset().find("clinet/") == std::string::npos);
}
