// markMasqBit and externalSetMarkChain as a user observes them: the reference's validation (range
// of the bit, not both keys, externalSetMarkChain only with iptables), and — with a
// KUBE-MARK-MASQ / KUBE-POSTROUTING pair the test makes as kube-proxy does — hairpin and
// 127.0.0.1 connections jump to the external chain (its counter counts them, its masquerade is
// what the container sees) while a remote client's do not; the jumps sit where the reference puts
// them (the per-container DNAT chain, `-s <subnet>` and `-s 127.0.0.1/32`).
#include <filesystem>
#include <regex>

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

const json kPrev = {
    {"cniVersion", "1.0.0"},
    {"interfaces",
     json::array({{{"name", "eth0"}, {"mac", "02:00:00:00:00:03"}, {"sandbox", "/x"}}})},
    {"ips", json::array({{{"address", "10.85.0.2/24"}, {"interface", 0}}})}};

PluginRun runPortmap(const std::string& binary, const std::string& command, const ScratchNetns& ns,
                     json keys) {
    keys["cniVersion"] = "1.0.0";
    keys["name"] = "pmmark";
    keys["type"] = "portmap";
    keys["prevResult"] = kPrev;
    keys["runtimeConfig"] = {
        {"portMappings", json::array({{{"hostPort", 8080}, {"containerPort", 80}}})}};
    return runPlugin(binary, command,
                     {{"CNI_CONTAINERID", "k1"},
                      {"CNI_NETNS", ns.path()},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", binDir()}},
                     keys.dump());
}

/// Packets counted by the first rule of nat chain `chain` (iptables-save -c).
long counter(const std::string& chain) {
    std::string save = execHere({"iptables-save", "-t", "nat", "-c"}).out;
    std::smatch m;
    if (!std::regex_search(save, m, std::regex("\\[(\\d+):\\d+\\] -A " + chain + " "))) return -1;
    return std::stol(m[1]);
}

/// kube-proxy's pair: KUBE-MARK-MASQ sets 0x4000, KUBE-POSTROUTING masquerades what carries it.
void makeKubeChains() {
    auto r = execHere({"sh", "-c",
                       "printf '*nat\\n:KUBE-MARK-MASQ - [0:0]\\n:KUBE-POSTROUTING - [0:0]\\n"
                       "-A POSTROUTING -j KUBE-POSTROUTING\\n"
                       "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\\n"
                       "-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\\n"
                       "COMMIT\\n' | iptables-restore --noflush"});
    REQUIRE(r.exitCode == 0);
}

} // namespace

TEST_CASE("markMasqBit and externalSetMarkChain are validated as the reference does",
          "[portmap][mark]") {
    PmHosts world;
    ScratchNetns c;
    const bool haveRef = std::filesystem::exists("/usr/lib/cni/portmap");
    struct Bad {
        json keys;
        int code;
        std::string msg;
    };
    const std::vector<Bad> bad = {
        {{{"markMasqBit", 32}}, 7, "invalid markMasqBit 32: must be between 0 and 31"},
        {{{"markMasqBit", -1}}, 7, "invalid markMasqBit -1: must be between 0 and 31"},
        {{{"markMasqBit", "13"}}, 6, "markMasqBit"},
        {{{"markMasqBit", 13}, {"externalSetMarkChain", "KUBE-MARK-MASQ"}},
         7,
         "cannot specify externalSetMarkChain and markMasqBit"},
        {{{"externalSetMarkChain", "KUBE-MARK-MASQ"}, {"backend", "nftables"}},
         7,
         "externalSetMarkChain"},
        {{{"externalSetMarkChain", "bad chain"}}, 7, "invalid externalSetMarkChain \"bad chain\""}};
    for (const auto& b : bad) {
        INFO(b.keys.dump());
        auto r = runPortmap(binDir() + "/portmap", "ADD", c, b.keys);
        INFO(r.out << r.err);
        CHECK(r.exitCode != 0);
        REQUIRE(r.json);
        CHECK((*r.json)["code"] == b.code);
        CHECK(std::string((*r.json)["msg"]).find(b.msg) != std::string::npos);
        if (haveRef && b.keys.size() == 1 && b.keys.contains("markMasqBit")) // ref refuses too
            CHECK(runPortmap("/usr/lib/cni/portmap", "ADD", c, b.keys).exitCode != 0);
    }
    CHECK((iptNat4() + nftRuleset()).find("8080") == std::string::npos); // nothing installed
    for (int bit : {0, 31}) { // the ends of the range are accepted, on both backends
        for (const char* backend : {"nftables", "iptables"}) {
            json keys = {{"markMasqBit", bit}, {"backend", backend}};
            auto r = runPortmap(binDir() + "/portmap", "ADD", c, keys);
            INFO(bit << " " << backend << ": " << r.out << r.err);
            CHECK(r.exitCode == 0);
            CHECK(runPortmap(binDir() + "/portmap", "DEL", c, keys).exitCode == 0);
        }
    }
    CHECK((iptNat4() + nftRuleset()).find("pmmark/") == std::string::npos);
}

TEST_CASE("externalSetMarkChain: hairpin and localhost connections jump to it, remote ones do not",
          "[portmap][mark][iptables]") {
    // Absent backend: externalSetMarkChain implies iptables (as the reference); named: the same.
    const std::string backend = GENERATE(as<std::string>{}, "", "iptables");
    INFO("backend \"" << backend << "\"");
    PmHosts world;
    makeKubeChains();
    json keys = {{"externalSetMarkChain", "KUBE-MARK-MASQ"}};
    if (!backend.empty()) keys["backend"] = backend;
    PmNet net("pmkube", "tpmk0", "10.86.0.0/24", "", keys);
    ScratchNetns server, other;
    json map = json::array({{{"hostPort", 8080}, {"containerPort", 80}}});
    auto add = rt::addNetwork(net.paths, net.list, portMapAttachment("srv", server, map));
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    REQUIRE(rt::addNetwork(net.paths, net.list, portMapAttachment("cli", other, json::array())));
    const std::string rules = iptNat4();
    INFO(rules << nftRuleset());
    CHECK(std::regex_search(rules, std::regex("-A TETHER-DN-[0-9a-f]+ -s 10\\.86\\.0\\.0/24 -p tcp "
                                              "-m tcp --dport 8080 .*-j KUBE-MARK-MASQ")));
    CHECK(std::regex_search(rules, std::regex("-A TETHER-DN-[0-9a-f]+ -s 127\\.0\\.0\\.1/32 -p tcp "
                                              "-m tcp --dport 8080 .*-j KUBE-MARK-MASQ")));
    CHECK(rules.find("TETHER-SN-") == std::string::npos);        // the external chain decides SNAT
    CHECK(nftRuleset().find("tcp . 8080") == std::string::npos); // no nftables mapping
    REQUIRE(counter("KUBE-MARK-MASQ") == 0);

    { // a remote client: not marked, seen with its own address
        auto peer = acceptOnce(server.netns(), 80, 3500);
        CHECK(connectFrom(world.remote(), kHost4, 8080, 3000));
        CHECK(peer.get() == kRemote4);
        CHECK(counter("KUBE-MARK-MASQ") == 0);
    }
    { // another container through the host's address (hairpin): marked, masqueraded by KUBE-*
        auto peer = acceptOnce(server.netns(), 80, 3500);
        CHECK(connectFrom(other.netns(), kHost4, 8080, 3000));
        CHECK(peer.get() == "10.86.0.1");
        CHECK(counter("KUBE-MARK-MASQ") == 1);
    }
    { // the host on 127.0.0.1: marked
        auto peer = acceptOnce(server.netns(), 80, 3500);
        CHECK(connectFrom(world.host(), "127.0.0.1", 8080, 3000));
        CHECK(peer.get() == "10.86.0.1");
        CHECK(counter("KUBE-MARK-MASQ") == 2);
    }
    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("srv", server, map)));
    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("cli", other, json::array())));
    const std::string after = iptNat4();
    INFO(after);
    CHECK(after.find("TETHER") == std::string::npos);
    CHECK(after.find(":KUBE-MARK-MASQ") != std::string::npos); // not ours: left alone
}
