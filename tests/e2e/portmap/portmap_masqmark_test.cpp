// markMasqBit as a user observes it (issue 13): hairpin connections (a container to a host port
// via the host's address — its own and another container's) and the host's 127.0.0.1 connections
// carry the mark 1 << markMasqBit after the port mapping's DNAT, as with the reference's iptables
// backend, on both of our backends; a remote client's do not. A test-owned nftables table counts
// the marked packets in a postrouting hook after every NAT, at 0x2000 (bit 13, the default) and
// 0x20 (bit 5): a config with bit 5 is seen at 0x20 and not at 0x2000. Every connection completes
// and the container sees the source the reference gives it (the bridge address when
// masqueraded). The same scenario runs with the reference portmap (iptables) and must give the
// same counts. After DEL nothing of ours is left (iptables: no TETHER-* and no CNI-HOSTPORT-*
// chain unless someone else still jumps to CNI-HOSTPORT-SETMARK).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "libcni/net_ops.hpp"
#include "tests/e2e/nat/tcp_probe.hpp"
#include "tests/e2e/portmap/pm_world.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::test;
using nlohmann::json;

namespace {

constexpr const char* kRefPortmap = "/usr/lib/cni/portmap";
constexpr const char* kGateway = "10.87.0.1"; ///< the bridge's address: what masquerade shows

/// "0x2000/0x2000": a mark and mask as the reference writes them and iptables-save prints them.
std::string markText(unsigned value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%#x/%#x", value, value);
    return buf;
}

/// "0x00002000": a mark as nft prints it.
std::string hex8(unsigned value) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", value);
    return buf;
}

/// A test-owned table `inet pmprobe` counting, in postrouting after every NAT hook, the packets
/// that carry bit 13 and bit 5 of the mark. Removed on destruction.
class MarkProbe {
  public:
    MarkProbe() {
        std::ofstream(dir_ / "probe.nft")
            << "table inet pmprobe {\n chain post {\n"
               "  type filter hook postrouting priority 300; policy accept;\n"
               "  meta mark & 0x00002000 == 0x00002000 counter\n"
               "  meta mark & 0x00000020 == 0x00000020 counter\n }\n}\n";
        auto r = execHere({"nft", "-f", dir_ / "probe.nft"});
        INFO(r.out << r.err);
        REQUIRE(r.exitCode == 0);
    }
    ~MarkProbe() { (void)execHere({"nft", "delete", "table", "inet", "pmprobe"}); }
    MarkProbe(const MarkProbe&) = delete;
    MarkProbe& operator=(const MarkProbe&) = delete;

    /// Packets counted so far with `value` (0x2000 or 0x20) set in the mark.
    [[nodiscard]] long packets(unsigned value) const {
        std::string out = execHere({"nft", "list", "chain", "inet", "pmprobe", "post"}).out;
        std::smatch m;
        const std::string h = hex8(value);
        if (!std::regex_search(out, m, std::regex(h + " == " + h + " counter packets (\\d+)")))
            return -1;
        return std::stol(m[1]);
    }

  private:
    TempDir dir_;
};

/// Network "pmbit" on bridge tpmb0 (10.87.0.0/24, hairpinMode so a container reaches its own
/// host port), then portmap with `keys`: ours, or the reference's (conflist version 1.0.0, which
/// it supports; bridge and host-local stay ours).
struct MarkNet {
    TempDir conf, cache, data, bin;
    rt::NetPaths paths;
    rt::NetworkList list;

    MarkNet(json keys, bool reference, bool dualStack = false) {
        std::string cniPath = binDir();
        if (reference) {
            for (const char* p : {"bridge", "host-local"})
                std::filesystem::create_symlink(binDir() + "/" + p, bin / p);
            std::filesystem::create_symlink(kRefPortmap, bin / "portmap");
            cniPath = bin.path().string();
        }
        paths = {.configDir = conf.path(), .cniPath = cniPath, .cacheDir = cache.path()};
        json br = {{"type", "bridge"},
                   {"bridge", "tpmb0"},
                   {"isDefaultGateway", true},
                   {"ipMasq", true},
                   {"hairpinMode", true},
                   {"ipam",
                    {{"type", "host-local"},
                     {"ranges", ranges(dualStack)},
                     {"dataDir", data.path().string()}}}};
        keys["type"] = "portmap";
        keys["capabilities"] = {{"portMappings", true}};
        json l = {{"cniVersion", reference ? "1.0.0" : "1.1.0"},
                  {"name", "pmbit"},
                  {"plugins", json::array({br, keys})}};
        std::ofstream(conf / "n.conflist") << l.dump();
        list = *rt::resolveNetwork(paths, "pmbit");
    }

    static json ranges(bool dualStack) {
        json r = json::array({json::array({{{"subnet", "10.87.0.0/24"}}})});
        if (dualStack) r.push_back(json::array({{{"subnet", "2001:db8:87::/64"}}}));
        return r;
    }
};

/// What one connection showed: the peer address the container saw ("" when the connection did
/// not complete) and how many packets were counted at bit 13 and at bit 5 meanwhile.
struct Seen {
    std::string peer;
    long at13 = 0, at5 = 0;
    [[nodiscard]] std::string text() const {
        return peer + " 0x2000:" + std::to_string(at13) + " 0x20:" + std::to_string(at5);
    }
};

Seen connectVia(const MarkProbe& probe, const net::Netns& from, const ScratchNetns& server,
                const std::string& ip) {
    const long b13 = probe.packets(0x2000), b5 = probe.packets(0x20);
    auto peer = acceptOnce(server.netns(), 80, 3500, ip.find(':') != std::string::npos);
    const bool connected = connectFrom(from, ip, 8080, 3000);
    Seen s{.peer = peer.get()};
    if (!connected) s.peer.clear();
    s.at13 = probe.packets(0x2000) - b13;
    s.at5 = probe.packets(0x20) - b5;
    return s;
}

/// The rules of `chain` in `save` (iptables-save text), in order.
std::vector<std::string> rulesOf(const std::string& save, const std::string& chain) {
    std::vector<std::string> out;
    std::istringstream in(save);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("-A " + chain + " ")) out.push_back(line);
    return out;
}

struct Impl {
    std::string name;    ///< for messages and the side-by-side table
    std::string backend; ///< our `backend` key; "" for the reference
    int bit;             ///< -1: markMasqBit not set (13)
    [[nodiscard]] bool reference() const { return backend.empty(); }
};

} // namespace

TEST_CASE("markMasqBit: hairpin and 127.0.0.1 connections carry the mark, remote ones do not",
          "[portmap][mark][masqmark]") {
    // The reference runs first for each bit, so ours are compared with what it showed.
    static std::map<int, std::string> referenceSaw;
    const Impl impl = GENERATE(Impl{"reference iptables", "", -1}, Impl{"nftables", "nftables", -1},
                               Impl{"iptables", "iptables", -1}, Impl{"reference iptables", "", 5},
                               Impl{"nftables", "nftables", 5}, Impl{"iptables", "iptables", 5});
    const int bit = impl.bit < 0 ? 13 : impl.bit;
    INFO(impl.name << ", markMasqBit " << bit);
    if (impl.reference() && !std::filesystem::exists(kRefPortmap)) {
        WARN("no reference portmap at " << kRefPortmap << ": side by side skipped");
        return;
    }
    PmHosts world;
    MarkProbe probe;
    json keys = json::object();
    if (!impl.reference()) keys["backend"] = impl.backend;
    if (impl.bit >= 0) keys["markMasqBit"] = impl.bit;
    MarkNet net(keys, impl.reference());
    ScratchNetns server, other;
    json map = json::array({{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}});
    rt::RuntimeConf srv = portMapAttachment("srv", server, map);
    rt::RuntimeConf cli = portMapAttachment("cli", other, json::array());
    auto add = rt::addNetwork(net.paths, net.list, srv);
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    REQUIRE(rt::addNetwork(net.paths, net.list, cli));

    const unsigned value = 1u << unsigned(bit);
    auto markedOnce = [&](const Seen& s) {
        return (bit == 13 ? s.at13 : s.at5) >= 1 && (bit == 13 ? s.at5 : s.at13) == 0;
    };
    const Seen remote = connectVia(probe, world.remote(), server, kHost4);
    const Seen self = connectVia(probe, server.netns(), server, kHost4);
    const Seen fromOther = connectVia(probe, other.netns(), server, kHost4);
    const Seen local = connectVia(probe, world.host(), server, "127.0.0.1");
    INFO("remote " << remote.text() << " | self " << self.text() << " | other " << fromOther.text()
                   << " | 127.0.0.1 " << local.text());
    CHECK(remote.peer == kRemote4); // not masqueraded, not marked
    CHECK(remote.at13 == 0);
    CHECK(remote.at5 == 0);
    CHECK(self.peer == kGateway); // hairpin to its own host port: marked and masqueraded
    CHECK(markedOnce(self));
    CHECK(fromOther.peer == kGateway); // another container of the subnet: the same
    CHECK(markedOnce(fromOther));
    CHECK(local.peer == kGateway); // the host's 127.0.0.1
    CHECK(markedOnce(local));
    const std::string summary =
        remote.text() + " | " + self.text() + " | " + fromOther.text() + " | " + local.text();
    if (impl.reference())
        referenceSaw[bit] = summary;
    else if (referenceSaw.count(bit))
        CHECK(summary == referenceSaw[bit]); // side by side: the same peers and counts

    const std::string rules = iptNat4();
    const std::string ruleset = nftRuleset();
    INFO(rules << ruleset);
    const std::string mt = markText(value);
    if (impl.backend != "nftables") { // the reference's chains, whoever made them
        CHECK(rules.find("-A CNI-HOSTPORT-SETMARK -m comment --comment \"CNI portfwd masquerade "
                         "mark\" -j MARK --set-xmark " +
                         mt + "\n") != std::string::npos);
        CHECK(rules.find("-A CNI-HOSTPORT-MASQ -m mark --mark " + mt + " -j MASQUERADE\n") !=
              std::string::npos);
        auto post = rulesOf(rules, "POSTROUTING");
        REQUIRE_FALSE(post.empty());
        CHECK(post.front() == "-A POSTROUTING -m comment --comment \"CNI portfwd requiring "
                              "masquerade\" -j CNI-HOSTPORT-MASQ");
        CHECK(rules.find("-j TETHER-SN-") == std::string::npos); // masqueraded by the mark
    } else {
        CHECK(rules.find("CNI-HOSTPORT") == std::string::npos);
        CHECK(ruleset.find("@pmmk4-" + std::to_string(bit) + " meta mark set meta mark | " +
                           hex8(value)) != std::string::npos);
    }

    REQUIRE(rt::delNetwork(net.paths, net.list, srv));
    REQUIRE(rt::delNetwork(net.paths, net.list, cli));
    const std::string after = iptNat4() + iptNat6();
    const std::string afterNft = nftRuleset();
    INFO(after << afterNft);
    CHECK(afterNft.find("pmbit/") == std::string::npos); // no element of the network left
    if (!impl.reference()) {
        CHECK(after.find("TETHER") == std::string::npos);
        CHECK(after.find("CNI-HOSTPORT") == std::string::npos); // ours: gone with the last user
    } else {
        CHECK(after.find("CNI-DN-") == std::string::npos);
    }
}

TEST_CASE("iptables mark chains stay while someone else jumps to CNI-HOSTPORT-SETMARK",
          "[portmap][mark][masqmark][iptables]") {
    PmHosts world;
    MarkNet net({{"backend", "iptables"}}, false);
    ScratchNetns a, b;
    json map80 = json::array({{{"hostPort", 8080}, {"containerPort", 80}}});
    json map81 = json::array({{{"hostPort", 8081}, {"containerPort", 80}}});
    REQUIRE(rt::addNetwork(net.paths, net.list, portMapAttachment("a", a, map80)));
    REQUIRE(rt::addNetwork(net.paths, net.list, portMapAttachment("b", b, map81)));
    auto count = [](const std::string& text, const std::string& what) {
        size_t n = 0;
        for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
            ++n;
        return n;
    };
    { // shared: one MARK rule, one masquerade rule, one jump, whatever the number of attachments
        const std::string rules = iptNat4();
        INFO(rules);
        CHECK(count(rules, "-j MARK --set-xmark 0x2000/0x2000") == 1);
        CHECK(count(rules, "-A CNI-HOSTPORT-MASQ ") == 1);
        CHECK(count(rules, "-j CNI-HOSTPORT-MASQ") == 1);
        CHECK(count(rules, "-j CNI-HOSTPORT-SETMARK") == 4); // hairpin + 127.0.0.1, each mapping
    }
    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("a", a, map80)));
    CHECK(iptNat4().find(":CNI-HOSTPORT-SETMARK") != std::string::npos); // b still uses it
    // A chain of someone else (as the reference's CNI-DN-* chains) jumping to the shared chain.
    auto r = execHere({"sh", "-c",
                       "printf '*nat\\n:FOREIGN-DN - [0:0]\\n-A FOREIGN-DN -s 127.0.0.1/32 -j "
                       "CNI-HOSTPORT-SETMARK\\nCOMMIT\\n' | iptables-restore --noflush"});
    REQUIRE(r.exitCode == 0);
    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("b", b, map81)));
    {
        const std::string rules = iptNat4();
        INFO(rules);
        CHECK(rules.find("TETHER-DN-") == std::string::npos);
        CHECK(rules.find(":CNI-HOSTPORT-SETMARK") != std::string::npos); // still jumped to
        CHECK(rules.find("-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000") != std::string::npos);
    }
    // Once nothing jumps to it, the next DEL or GC of ours removes the chains.
    REQUIRE(execHere({"sh", "-c",
                      "printf '*nat\\n-F FOREIGN-DN\\n-X FOREIGN-DN\\nCOMMIT\\n' | "
                      "iptables-restore --noflush"})
                .exitCode == 0);
    REQUIRE(rt::addNetwork(net.paths, net.list, portMapAttachment("a", a, map80)));
    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("a", a, map80)));
    const std::string after = iptNat4();
    INFO(after);
    CHECK(after.find("CNI-HOSTPORT") == std::string::npos);
    CHECK(after.find("TETHER") == std::string::npos);
}

namespace {

const json kPrevResult = {
    {"cniVersion", "1.0.0"},
    {"interfaces",
     json::array({{{"name", "eth0"}, {"mac", "02:00:00:00:00:03"}, {"sandbox", "/x"}}})},
    {"ips", json::array({{{"address", "10.85.0.2/24"}, {"interface", 0}}})}};

/// Our portmap run directly (no runtime): network "pmbitd", container k1, one mapping 8080.
PluginRun portmapCmd(const std::string& command, const ScratchNetns& ns, json keys,
                     bool withPrev = true) {
    keys["cniVersion"] = "1.0.0";
    keys["name"] = "pmbitd";
    keys["type"] = "portmap";
    if (withPrev) keys["prevResult"] = kPrevResult;
    keys["runtimeConfig"] = {
        {"portMappings",
         json::array({{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}})}};
    return runPlugin(binDir() + "/portmap", command,
                     {{"CNI_CONTAINERID", "k1"},
                      {"CNI_NETNS", ns.path()},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", binDir()}},
                     keys.dump());
}

} // namespace

TEST_CASE("markMasqBit: CHECK sees a missing mark; DEL with another bit than ADD leaves nothing",
          "[portmap][mark][masqmark]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    PmHosts world;
    ScratchNetns c;
    const json add = {{"backend", backend}, {"markMasqBit", 5}};
    auto r = portmapCmd("ADD", c, add);
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 0);
    CHECK(portmapCmd("CHECK", c, add).exitCode == 0);
    const std::string before = iptNat4() + nftRuleset();
    INFO(before);
    if (backend == "nftables") {
        CHECK(before.find("pmbitd/k1/eth0") != std::string::npos);
        REQUIRE(execHere({"nft", "flush", "set", "inet", "tether", "pmmk4-5"}).exitCode == 0);
    } else {
        CHECK(before.find("--set-xmark 0x20/0x20") != std::string::npos);
        REQUIRE(execHere({"iptables", "-t", "nat", "-F", "CNI-HOSTPORT-SETMARK"}).exitCode == 0);
    }
    auto check = portmapCmd("CHECK", c, add);
    INFO(check.out);
    CHECK(check.exitCode != 0);
    CHECK(check.out.find("markMasqBit 5") != std::string::npos);
    REQUIRE(portmapCmd("ADD", c, add).exitCode == 0); // a repeated ADD repairs it
    CHECK(portmapCmd("CHECK", c, add).exitCode == 0);
    // The config changed to the default bit before DEL, which has no prevResult either: the
    // elements of bit 5 are found through pmbits all the same.
    REQUIRE(portmapCmd("DEL", c, {{"backend", backend}}, false).exitCode == 0);
    const std::string after = iptNat4() + nftRuleset();
    INFO(after);
    CHECK(after.find("pmbitd/") == std::string::npos);
    CHECK(after.find("CNI-HOSTPORT") == std::string::npos);
    CHECK(after.find("TETHER") == std::string::npos);
    CHECK(portmapCmd("DEL", c, {{"backend", backend}}, false).exitCode == 0); // idempotent
}

TEST_CASE("markMasqBit over IPv6: hairpin connections carry the mark, remote ones do not",
          "[portmap][mark][masqmark][ipv6]") {
    const std::string backend = GENERATE(as<std::string>{}, "nftables", "iptables");
    INFO("backend " << backend);
    PmHosts world;
    MarkProbe probe;
    MarkNet net({{"backend", backend}}, false, true);
    ScratchNetns server, other;
    json map = json::array({{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}});
    auto add = rt::addNetwork(net.paths, net.list, portMapAttachment("srv6", server, map));
    INFO((add ? add->dump() : add.error().text()));
    REQUIRE(add);
    REQUIRE(rt::addNetwork(net.paths, net.list, portMapAttachment("cli6", other, json::array())));
    const Seen remote = connectVia(probe, world.remote(), server, kHost6);
    const Seen fromOther = connectVia(probe, other.netns(), server, kHost6);
    INFO("remote " << remote.text() << " | other " << fromOther.text() << "\n"
                   << iptNat6() << nftRuleset());
    CHECK(remote.peer == kRemote6);
    CHECK(remote.at13 == 0);
    CHECK(fromOther.peer == "2001:db8:87::1"); // masqueraded to the bridge's address
    CHECK(fromOther.at13 >= 1);
    CHECK(fromOther.at5 == 0);
    if (backend == "iptables")
        CHECK(iptNat6().find("-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE") !=
              std::string::npos);
    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("srv6", server, map)));
    REQUIRE(rt::delNetwork(net.paths, net.list, portMapAttachment("cli6", other, json::array())));
    const std::string after = iptNat6() + nftRuleset();
    INFO(after);
    CHECK(after.find("pmbit/") == std::string::npos);
    CHECK(after.find("CNI-HOSTPORT") == std::string::npos);
}
