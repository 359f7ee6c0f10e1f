// build/bin/tuning driven as a runtime would, in scratch namespaces: the sysctls and link
// attributes a user sees in the container after ADD, their restoration by DEL, CHECK, GC, bad
// input refused before anything changes, and the result compared with /usr/lib/cni/tuning.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "libnet/link.hpp"
#include "libnet/link_extra.hpp"
#include "libnet/sysctl.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using nlohmann::json;

namespace {

std::string ours() {
    return test::binDir() + "/tuning";
}
std::string reference() {
    return access("/usr/lib/cni/tuning", X_OK) == 0 ? "/usr/lib/cni/tuning" : "";
}

/// A container netns with eth0 (one end of a veth pair whose other end, peer0, stays inside).
struct Container {
    test::ScratchNetns ns;
    Container() {
        REQUIRE(ns.exec({"ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"})
                    .exitCode == 0);
        REQUIRE(ns.exec({"ip", "link", "set", "eth0", "up"}).exitCode == 0);
    }
    net::LinkTuning link() {
        auto l = net::getLink(ns.nl(), "eth0");
        REQUIRE(l);
        auto t = net::getLinkTuning(ns.nl(), l->index);
        REQUIRE(t);
        return *t;
    }
    std::string sysctl(const std::string& path) {
        auto v = net::readSysctl(ns.netns(), path);
        REQUIRE(v);
        return *v;
    }
    [[nodiscard]] json prevResult(const std::string& version = "1.0.0") {
        return {{"cniVersion", version},
                {"interfaces", {{{"name", "eth0"}, {"mac", link().mac}, {"sandbox", ns.path()}}}},
                {"ips", {{{"address", "10.7.0.2/24"}, {"interface", 0}}}}};
    }
};

json conf(const json& keys, const json& prev, const std::string& version = "1.0.0") {
    json c = {{"cniVersion", version}, {"name", "tunenet"}, {"type", "tuning"}};
    c.update(keys);
    if (!prev.is_null()) c["prevResult"] = prev;
    return c;
}

test::PluginRun run(const std::string& bin, const std::string& cmd, const std::string& netns,
                    const json& config, const std::string& cniArgs = "",
                    const std::string& allowlist = "", const std::string& cid = "c1") {
    std::vector<std::pair<std::string, std::string>> env{{"CNI_CONTAINERID", cid},
                                                         {"CNI_NETNS", netns},
                                                         {"CNI_IFNAME", "eth0"},
                                                         {"CNI_PATH", test::binDir()}};
    if (!cniArgs.empty()) env.emplace_back("CNI_ARGS", cniArgs);
    if (!allowlist.empty()) env.emplace_back("TETHER_TUNING_ALLOWLIST", allowlist);
    return test::runPlugin(bin, cmd, env, config.dump());
}

const char* kArpFilter = "net/ipv4/conf/eth0/arp_filter";
const char* kSomaxconn = "net/core/somaxconn";

} // namespace

TEST_CASE("ADD changes sysctls and link attributes, CHECK agrees, DEL restores all of them",
          "[tuning]") {
    Container c;
    test::TempDir data;
    const net::LinkTuning before = c.link();
    const std::string arpBefore = c.sysctl(kArpFilter), somaxBefore = c.sysctl(kSomaxconn);
    REQUIRE(arpBefore == "0");
    json keys = {
        {"sysctl", {{"net.ipv4.conf.IFNAME.arp_filter", "1"}, {"net.core.somaxconn", "777"}}},
        {"mac", "c2:11:22:33:44:55"},
        {"mtu", 1400},
        {"promisc", true},
        {"allmulti", true},
        {"txQLen", 321},
        {"dataDir", data.path().string()}};
    auto add = run(ours(), "ADD", c.ns.path(), conf(keys, c.prevResult()));
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    CHECK(add.json->at("interfaces")[0].at("mac") == "c2:11:22:33:44:55");
    CHECK(add.json->at("ips") == c.prevResult().at("ips"));

    const net::LinkTuning after = c.link();
    CHECK(after.mac == "c2:11:22:33:44:55");
    CHECK(after.mtu == 1400);
    CHECK(after.promisc);
    CHECK(after.allmulti);
    CHECK(after.txQLen == 321);
    CHECK(c.sysctl(kArpFilter) == "1");
    CHECK(c.sysctl(kSomaxconn) == "777");

    const std::string state = data / "c1_eth0.json";
    struct stat st {};
    REQUIRE(::stat(state.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    CHECK(run(ours(), "CHECK", c.ns.path(), conf(keys, *add.json)).exitCode == 0);
    auto l = net::getLink(c.ns.nl(), "eth0");
    REQUIRE(net::setLinkMtu(c.ns.nl(), l->index, 1300));
    auto bad = run(ours(), "CHECK", c.ns.path(), conf(keys, *add.json));
    CHECK(bad.exitCode == 1);
    CHECK_THAT(bad.out, Catch::Contains("MTU"));

    auto del = run(ours(), "DEL", c.ns.path(), conf(keys, *add.json));
    INFO(del.out << del.err);
    CHECK(del.exitCode == 0);
    const net::LinkTuning restored = c.link();
    CHECK(restored.mac == before.mac);
    CHECK(restored.mtu == before.mtu);
    CHECK(restored.promisc == before.promisc);
    CHECK(restored.allmulti == before.allmulti);
    CHECK(restored.txQLen == before.txQLen);
    CHECK(c.sysctl(kArpFilter) == arpBefore);
    CHECK(c.sysctl(kSomaxconn) == somaxBefore);
    CHECK(!std::filesystem::exists(state));
    CHECK(run(ours(), "DEL", c.ns.path(), conf(keys, *add.json)).exitCode == 0); // idempotent
    CHECK(run(ours(), "DEL", "", conf(keys, nullptr)).exitCode == 0);            // no netns
}

TEST_CASE("args.cni.sysctl works without a static sysctl map; mac sources in order", "[tuning]") {
    Container c;
    test::TempDir data;
    json keys = {{"dataDir", data.path().string()},
                 {"mac", "c2:00:00:00:00:01"},
                 {"args", {{"cni", {{"sysctl", {{"net.ipv4.conf.eth0.arp_filter", "1"}}}}}}}};
    auto add = run(ours(), "ADD", c.ns.path(), conf(keys, c.prevResult()));
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    CHECK(c.sysctl(kArpFilter) == "1");
    CHECK(c.link().mac == "c2:00:00:00:00:01");
    REQUIRE(run(ours(), "DEL", c.ns.path(), conf(keys, *add.json)).exitCode == 0);
    CHECK(c.sysctl(kArpFilter) == "0");

    // CNI_ARGS MAC= beats the static key, runtimeConfig.mac beats CNI_ARGS.
    auto viaArgs = run(ours(), "ADD", c.ns.path(), conf(keys, c.prevResult()),
                       "IgnoreUnknown=1;MAC=c2:00:00:00:00:02");
    REQUIRE(viaArgs.exitCode == 0);
    CHECK(c.link().mac == "c2:00:00:00:00:02");
    REQUIRE(run(ours(), "DEL", c.ns.path(), conf(keys, *viaArgs.json)).exitCode == 0);
    json rc = keys;
    rc["runtimeConfig"] = {{"mac", "c2:00:00:00:00:03"}};
    auto viaRc = run(ours(), "ADD", c.ns.path(), conf(rc, c.prevResult()), "MAC=c2:00:00:00:00:02");
    REQUIRE(viaRc.exitCode == 0);
    CHECK(c.link().mac == "c2:00:00:00:00:03");
    CHECK(viaRc.json->at("interfaces")[0].at("mac") == "c2:00:00:00:00:03");
    REQUIRE(run(ours(), "DEL", c.ns.path(), conf(rc, *viaRc.json)).exitCode == 0);
}

TEST_CASE("bad input is refused with code 7 before anything changes", "[tuning]") {
    Container c;
    test::TempDir data;
    std::ofstream(data / "allow.conf") << "^net\\.core\\..*\n";
    struct Case {
        std::string stdinJson; // raw, so duplicate keys survive
        std::string text;
        std::string allowlist;
    };
    auto raw = [&](const std::string& keys) {
        json base = conf({{"dataDir", data.path().string()}}, c.prevResult());
        std::string s = base.dump();
        return s.substr(0, s.size() - 1) + "," + keys + "}";
    };
    std::vector<Case> cases = {
        {raw(R"("sysctl":{"kernel.hostname":"x"})"), "only net.* sysctls", ""},
        {raw(R"("sysctl":{"net/ipv4/../../kernel/hostname":"x"})"), "invalid net sysctl key", ""},
        {raw(R"("sysctl":{"net.ipv4.conf.IFNAME.arp_filter":"1","net.ipv4.conf.IFNAME.arp_filter":"0"})"),
         "duplicated sysctl key", ""},
        {raw(R"("mac":"zz:11:22:33:44:55")"), "invalid MAC address", ""},
        {raw(R"("mtu":20)"), "mtu", ""},
        {raw(R"("sysctl":{"net.ipv4.conf.IFNAME.arp_filter":"1"})"), "is not allowed",
         data / "allow.conf"},
        {raw(R"("sysctl":{"net.ipv4.conf.nosuchif.arp_filter":"1"})"), "nosuchif", ""},
    };
    for (const auto& k : cases) {
        std::vector<std::pair<std::string, std::string>> env{{"CNI_CONTAINERID", "c1"},
                                                             {"CNI_NETNS", c.ns.path()},
                                                             {"CNI_IFNAME", "eth0"},
                                                             {"CNI_PATH", test::binDir()}};
        if (!k.allowlist.empty()) env.emplace_back("TETHER_TUNING_ALLOWLIST", k.allowlist);
        auto r = test::runPlugin(ours(), "ADD", env, k.stdinJson);
        INFO(k.stdinJson << " -> " << r.out);
        CHECK(r.exitCode == 1);
        REQUIRE(r.json);
        CHECK(r.json->at("code") == 7);
        CHECK_THAT(r.json->at("msg").get<std::string>(), Catch::Contains(k.text));
    }
    auto noPrev = run(ours(), "ADD", c.ns.path(),
                      conf({{"dataDir", data.path().string()}, {"mtu", 1400}}, nullptr));
    CHECK(noPrev.exitCode == 1);
    CHECK(c.sysctl(kArpFilter) == "0");
    CHECK(c.link().mtu == 1500);
    CHECK(!std::filesystem::exists(data / "c1_eth0.json"));
    // An allowlist that permits the key lets it through.
    std::ofstream(data / "allow2.conf") << "^net\\.ipv4\\.conf\\.IFNAME\\.arp_filter$\n";
    json ok = conf(
        {{"dataDir", data.path().string()}, {"sysctl", {{"net.ipv4.conf.IFNAME.arp_filter", "1"}}}},
        c.prevResult());
    auto r = run(ours(), "ADD", c.ns.path(), ok, "", data / "allow2.conf");
    INFO(r.out);
    CHECK(r.exitCode == 0);
    CHECK(c.sysctl(kArpFilter) == "1");
}

TEST_CASE("the result and kernel state match the reference tuning plugin", "[tuning]") {
    if (reference().empty()) {
        WARN("reference tuning plugin not installed: skipped");
        return;
    }
    for (const char* v : {"0.3.1", "0.4.0", "1.0.0"}) {
        INFO("cniVersion " << v);
        auto once = [&](const std::string& bin) {
            Container c;
            test::TempDir data;
            json keys = {{"sysctl", {{"net.ipv4.conf.IFNAME.arp_filter", "1"}}},
                         {"mac", "c2:11:22:33:44:66"},
                         {"mtu", 1280},
                         {"promisc", true},
                         {"allmulti", true},
                         {"dataDir", data.path().string()}};
            json prev = c.prevResult(v);
            prev["interfaces"][0]["mac"] = "c2:00:00:00:00:00"; // same input for both
            auto r = run(bin, "ADD", c.ns.path(), conf(keys, prev, v));
            INFO(bin << ": " << r.out << r.err);
            REQUIRE(r.exitCode == 0);
            auto t = c.link();
            // Each run has its own netns path, and the reference always prints "dns":{}
            // (Go's empty struct) where we omit an empty DNS: compare the rest.
            json res = *r.json;
            res["interfaces"][0].erase("sandbox");
            if (res.contains("dns") && res["dns"].empty()) res.erase("dns");
            auto state =
                std::make_tuple(res, t.mac, t.mtu, t.promisc, t.allmulti, c.sysctl(kArpFilter));
            auto d = run(bin, "DEL", c.ns.path(), conf(keys, *r.json, v));
            REQUIRE(d.exitCode == 0);
            CHECK(c.link().mtu == 1500);
            return state;
        };
        auto a = once(ours());
        auto b = once(reference());
        CHECK(std::get<0>(a) == std::get<0>(b));
        CHECK(std::get<1>(a) == std::get<1>(b));
        CHECK(std::get<2>(a) == std::get<2>(b));
        CHECK(std::get<3>(a) == std::get<3>(b));
        CHECK(std::get<4>(a) == std::get<4>(b));
        CHECK(std::get<5>(a) == std::get<5>(b));
    }
}

TEST_CASE("GC removes state files of attachments that are no longer valid", "[tuning]") {
    Container a, b;
    test::TempDir data;
    json keys = {{"mtu", 1400}, {"dataDir", data.path().string()}};
    REQUIRE(run(ours(), "ADD", a.ns.path(), conf(keys, a.prevResult(), "1.1.0"), "", "", "ca")
                .exitCode == 0);
    REQUIRE(run(ours(), "ADD", b.ns.path(), conf(keys, b.prevResult(), "1.1.0"), "", "", "cb")
                .exitCode == 0);
    std::ofstream(data / "foreign_eth0.json") << R"({"mtu":1500})"; // no owner: left alone
    json gc = conf(keys, nullptr, "1.1.0");
    gc["cni.dev/valid-attachments"] = {{{"containerID", "cb"}, {"ifname", "eth0"}}};
    auto g = test::runPlugin(ours(), "GC", {{"CNI_PATH", test::binDir()}}, gc.dump());
    INFO(g.out << g.err);
    CHECK(g.exitCode == 0);
    CHECK(!std::filesystem::exists(data / "ca_eth0.json"));
    CHECK(std::filesystem::exists(data / "cb_eth0.json"));
    CHECK(std::filesystem::exists(data / "foreign_eth0.json"));
}

TEST_CASE("a repeated ADD of the same attachment keeps the first originals for DEL", "[tuning]") {
    Container c;
    test::TempDir data;
    const net::LinkTuning before = c.link();
    json keys = {{"mtu", 1400},
                 {"sysctl", {{"net.ipv4.conf.IFNAME.arp_filter", "1"}}},
                 {"dataDir", data.path().string()}};
    REQUIRE(run(ours(), "ADD", c.ns.path(), conf(keys, c.prevResult())).exitCode == 0);
    // The runtime retries the ADD (e.g. after a timeout): the link already has the new values.
    auto again = run(ours(), "ADD", c.ns.path(), conf(keys, c.prevResult()));
    INFO(again.out << again.err);
    REQUIRE(again.exitCode == 0);
    CHECK(c.link().mtu == 1400);
    REQUIRE(run(ours(), "DEL", c.ns.path(), conf(keys, c.prevResult())).exitCode == 0);
    CHECK(c.link().mtu == before.mtu);
    CHECK(c.sysctl(kArpFilter) == "0");
}
