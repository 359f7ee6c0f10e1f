// Backend fallback (issue 13 item 5): where nftables cannot be used, bridge `ipMasq`, portmap and
// firewall without a backend key fall back to iptables by themselves and say so once on stderr;
// an explicit backend still wins. "Cannot be used" is simulated with the test hook of
// nat/backend.hpp (TETHER_TEST_NFTABLES_UNAVAILABLE=1 in each plugin's environment). The chain
// bridge -> portmap -> firewall is run plugin by plugin, as libcni does, so each plugin's stderr is
// seen; the host's FORWARD policy is DROP, so outgoing traffic only passes when the firewall's
// rules do.
#include <catch2/catch.hpp>

#include "tests/e2e/nat/tcp_probe.hpp"
#include "tests/e2e/portmap/pm_world.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::test;
using nlohmann::json;

namespace {

constexpr const char* kSaid = "nftables is not usable here";

struct Chain {
    TempDir data;
    ScratchNetns ctr;
    bool explicitNft = false; ///< name nftables in every plugin
    std::vector<json> results;

    json conf(const std::string& type) const {
        json c = {{"cniVersion", "1.0.0"}, {"name", "fb"}, {"type", type}};
        if (type == "bridge") {
            c.update({{"bridge", "tfb0"},
                      {"isDefaultGateway", true},
                      {"ipMasq", true},
                      {"ipam",
                       {{"type", "host-local"},
                        {"subnet", "10.87.0.0/24"},
                        {"dataDir", data.path().string()}}}});
            if (explicitNft) c["ipMasqBackend"] = "nftables";
        } else {
            if (explicitNft) c["backend"] = "nftables";
            if (type == "portmap")
                c["runtimeConfig"] = {
                    {"portMappings", json::array({{{"hostPort", 8080}, {"containerPort", 80}}})}};
        }
        return c;
    }
    PluginRun run(const std::string& type, const std::string& command, const json& prev) const {
        json c = conf(type);
        if (!prev.is_null()) c["prevResult"] = prev;
        return runPlugin(binDir() + "/" + type, command,
                         {{"CNI_CONTAINERID", "c1"},
                          {"CNI_NETNS", ctr.path()},
                          {"CNI_IFNAME", "eth0"},
                          {"CNI_PATH", binDir()},
                          {"TETHER_TEST_NFTABLES_UNAVAILABLE", "1"}},
                         c.dump());
    }
};

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

std::string iptFilter() {
    return execHere({"iptables-save", "-t", "filter"}).out;
}

} // namespace

TEST_CASE("without nftables, ipMasq, portmap and firewall fall back to iptables",
          "[fallback][nat][portmap][firewall]") {
    const bool explicitNft = GENERATE(false, true);
    INFO((explicitNft ? "explicit nftables" : "no backend keys"));
    PmHosts world;
    REQUIRE(execHere({"iptables", "-P", "FORWARD", "DROP"}).exitCode == 0);
    Chain chain;
    chain.explicitNft = explicitNft;
    json prev;
    for (const char* type : {"bridge", "portmap", "firewall"}) {
        auto r = chain.run(type, "ADD", prev);
        INFO(type << ": " << r.out << "\nstderr: " << r.err);
        REQUIRE(r.exitCode == 0);
        REQUIRE(r.json);
        // the fallback is said, once per plugin; an explicit backend says nothing
        CHECK(count(r.err, kSaid) == (explicitNft ? 0 : 1));
        if (!explicitNft) CHECK(r.err.find("using iptables") != std::string::npos);
        prev = *r.json;
    }
    const std::string nat = iptNat4(), filter = iptFilter(), nft = nftRuleset();
    INFO(nat << filter << nft);
    if (!explicitNft) { // every rule in iptables, nothing of the attachment in our nft tables
        CHECK(nat.find("-s 10.87.0.2/32 ! -d 10.87.0.0/24 -m comment --comment \"fb/c1/eth0\" "
                       "-j TETHER-MASQ-") != std::string::npos);
        CHECK(nat.find("--dport 8080 -m comment --comment \"fb/c1/eth0\" -j DNAT "
                       "--to-destination 10.87.0.2:80") != std::string::npos);
        CHECK(filter.find("-A CNI-FORWARD -s 10.87.0.2/32") != std::string::npos);
        CHECK(nft.find("fb/c1/eth0") == std::string::npos);
    } else { // the backend named wins: elements in our tables, no NAT rules in iptables
        CHECK(nat.find("TETHER") == std::string::npos);
        CHECK(count(nft, "fb/c1/eth0") >= 3); // masquerade, mapping, firewall elements
    }
    { // out: the remote sees the host's address (masquerade), through the DROP policy
        auto peer = acceptOnce(world.remote(), 9000, 3500);
        CHECK(connectFrom(chain.ctr.netns(), kRemote4, 9000, 3000));
        CHECK(peer.get() == kHost4);
    }
    // New inbound connections are not the firewall's to accept (its rules admit replies to the
    // container, as the reference's): the policy goes back to ACCEPT for the port mapping.
    REQUIRE(execHere({"iptables", "-P", "FORWARD", "ACCEPT"}).exitCode == 0);
    { // in: host port 8080 reaches the container, seen with the remote's address
        auto peer = acceptOnce(chain.ctr.netns(), 80, 3500);
        CHECK(connectFrom(world.remote(), kHost4, 8080, 3000));
        CHECK(peer.get() == kRemote4);
    }
    for (const char* type : {"firewall", "portmap", "bridge"}) { // DEL in reverse order
        auto r = chain.run(type, "DEL", prev);
        INFO(type << " DEL: " << r.out << r.err);
        CHECK(r.exitCode == 0);
    }
    const std::string all = iptNat4() + iptFilter() + nftRuleset();
    INFO(all);
    CHECK(all.find("fb/c1") == std::string::npos);
    CHECK(all.find("10.87.0.2") == std::string::npos);
    CHECK(all.find("TETHER") == std::string::npos);
    CHECK(all.find("CNI-FORWARD") == std::string::npos);
    { // and the mapping is gone
        auto peer = acceptOnce(chain.ctr.netns(), 80, 1500);
        connectFrom(world.remote(), kHost4, 8080, 1000);
        CHECK(peer.get().empty());
    }
}
