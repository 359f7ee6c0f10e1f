// build/bin/loopback driven as a runtime would, side by side with the reference
// /usr/lib/cni/loopback when it is installed.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "libnet/link.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using nlohmann::json;

namespace {

std::string ours() {
    return test::binDir() + "/loopback";
}
std::string reference() {
    const char* p = "/usr/lib/cni/loopback";
    return access(p, X_OK) == 0 ? p : "";
}

json conf(const std::string& version) {
    return {{"cniVersion", version}, {"name", "lo-net"}, {"type", "loopback"}};
}

test::PluginRun run(const std::string& bin, const std::string& cmd, const std::string& netns,
                    const json& config, const std::string& cniArgs = "none") {
    std::vector<std::pair<std::string, std::string>> env{
        {"CNI_CONTAINERID", "c1"}, {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/usr/lib/cni"}};
    env.emplace_back("CNI_NETNS", netns);
    if (!cniArgs.empty()) env.emplace_back("CNI_ARGS", cniArgs);
    return test::runPlugin(bin, cmd, env, config.dump());
}

bool loUp(test::ScratchNetns& ns) {
    auto lo = net::getLink(ns.nl(), "lo");
    REQUIRE(lo);
    return lo->up;
}

void setLo(test::ScratchNetns& ns, bool up) {
    auto lo = net::getLink(ns.nl(), "lo");
    REQUIRE(lo);
    REQUIRE(net::setLinkUp(ns.nl(), lo->index, up));
}

/// What a result says, independent of its encoding: the addresses (with their interface index
/// when given) and the interfaces. The reference prints its 1.0.0-shaped result under every
/// requested version (no "version" keys, "dns":{}, "ips" even for 0.1.0/0.2.0) while we print
/// each version's own schema; both report the same interface and addresses.
json meaning(const json& r) {
    json out = {{"cniVersion", r.at("cniVersion")}, {"ips", json::array()}};
    if (r.contains("ips"))
        for (const auto& ip : r.at("ips"))
            out["ips"].push_back(
                {{"address", ip.at("address")}, {"interface", ip.value("interface", -1)}});
    for (const char* key : {"ip4", "ip6"})
        if (r.contains(key))
            out["ips"].push_back({{"address", r.at(key).at("ip")}, {"interface", 0}});
    if (r.contains("interfaces")) out["interfaces"] = r.at("interfaces");
    return out;
}

} // namespace

TEST_CASE("ADD matches the reference for every spec version", "[loopback]") {
    for (const char* v : {"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        INFO("cniVersion " << v);
        test::ScratchNetns mine;
        setLo(mine, false);
        auto got = run(ours(), "ADD", mine.path(), conf(v));
        INFO(got.out << got.err);
        REQUIRE(got.exitCode == 0);
        REQUIRE(got.json);
        CHECK(loUp(mine));
        CHECK(got.json->at("cniVersion") == v);
        auto ips = meaning(*got.json).at("ips");
        REQUIRE(ips.size() == 2);
        CHECK(ips[0].at("address") == "127.0.0.1/8");
        CHECK(ips[1].at("address") == "::1/128");
        if (std::string(v) >= "0.3.0") {
            auto ifs = got.json->at("interfaces");
            REQUIRE(ifs.size() == 1);
            CHECK(ifs[0] ==
                  json({{"name", "lo"}, {"mac", "00:00:00:00:00:00"}, {"sandbox", mine.path()}}));
            CHECK(ips[0].at("interface") == 0);
        }
        if (reference().empty()) continue;
        test::ScratchNetns theirs;
        setLo(theirs, false);
        auto ref = run(reference(), "ADD", theirs.path(), conf(v));
        if (ref.exitCode != 0) {
            // The reference predates 1.1.0.
            CHECK(std::string(v) == "1.1.0");
            continue;
        }
        REQUIRE(ref.json);
        json a = meaning(*got.json), b = meaning(*ref.json);
        if (!a.contains("interfaces")) b.erase("interfaces");
        if (b.contains("interfaces")) b["interfaces"][0]["sandbox"] = mine.path();
        CHECK(a == b);
    }
}

TEST_CASE("ADD passes a prevResult through like the reference", "[loopback]") {
    json prev = {
        {"cniVersion", "1.0.0"},
        {"interfaces", {{{"name", "eth0"}, {"mac", "0a:58:0a:01:00:05"}, {"sandbox", "/x"}}}},
        {"ips", {{{"address", "10.1.0.5/16"}, {"gateway", "10.1.0.1"}, {"interface", 0}}}},
        {"routes", {{{"dst", "0.0.0.0/0"}}}},
        {"dns", {{"nameservers", {"10.1.0.1"}}}}};
    json c = conf("1.0.0");
    c["prevResult"] = prev;
    test::ScratchNetns ns;
    auto got = run(ours(), "ADD", ns.path(), c);
    INFO(got.out << got.err);
    REQUIRE(got.exitCode == 0);
    REQUIRE(got.json);
    CHECK(*got.json == prev);
    CHECK(loUp(ns));
    if (reference().empty()) return;
    test::ScratchNetns theirs;
    auto ref = run(reference(), "ADD", theirs.path(), c);
    REQUIRE(ref.exitCode == 0);
    CHECK(*ref.json == *got.json);
}

TEST_CASE("CNI_ARGS is accepted in any form", "[loopback]") {
    test::ScratchNetns ns;
    for (const char* args : {"none", "", "IgnoreUnknown=1;K8S_POD_NAME=p"}) {
        auto got = run(ours(), "ADD", ns.path(), conf("1.0.0"), args);
        INFO(args << ": " << got.out);
        CHECK(got.exitCode == 0);
    }
}

TEST_CASE("CHECK fails when lo is down, passes when up", "[loopback]") {
    test::ScratchNetns ns;
    REQUIRE(run(ours(), "ADD", ns.path(), conf("1.0.0")).exitCode == 0);
    CHECK(run(ours(), "CHECK", ns.path(), conf("1.0.0")).exitCode == 0);
    setLo(ns, false);
    auto down = run(ours(), "CHECK", ns.path(), conf("1.0.0"));
    CHECK(down.exitCode != 0);
    REQUIRE(down.json);
    CHECK(down.json->at("msg") == "loopback interface is down");
    if (reference().empty()) return;
    CHECK(run(reference(), "CHECK", ns.path(), conf("1.0.0")).exitCode != 0);
}

TEST_CASE("DEL sets lo down and tolerates a missing or empty netns", "[loopback]") {
    test::ScratchNetns ns;
    REQUIRE(run(ours(), "ADD", ns.path(), conf("1.0.0")).exitCode == 0);
    REQUIRE(loUp(ns));
    auto del = run(ours(), "DEL", ns.path(), conf("1.0.0"));
    INFO(del.out << del.err);
    CHECK(del.exitCode == 0);
    CHECK(del.out.empty());
    CHECK_FALSE(loUp(ns));
    CHECK(run(ours(), "DEL", ns.path(), conf("1.0.0")).exitCode == 0);

    test::TempDir dir;
    auto missing = run(ours(), "DEL", dir / "gone", conf("1.0.0"));
    INFO(missing.out);
    CHECK(missing.exitCode == 0);
    CHECK(run(ours(), "DEL", "", conf("1.0.0")).exitCode == 0);
    if (reference().empty()) return;
    CHECK(run(reference(), "DEL", dir / "gone", conf("1.0.0")).exitCode == 0);
}

TEST_CASE("the plugin's own netns and non-netns paths are refused with code 8", "[loopback]") {
    auto self = net::NetlinkSocket::open();
    REQUIRE(self);
    auto before = net::getLink(*self, "lo");
    REQUIRE(before);
    for (const char* cmd : {"ADD", "DEL", "CHECK"}) {
        INFO(cmd);
        auto own = run(ours(), cmd, "/proc/self/ns/net", conf("1.0.0"));
        CHECK(own.exitCode != 0);
        REQUIRE(own.json);
        CHECK(own.json->at("code") == 8);
    }
    auto after = net::getLink(*self, "lo");
    REQUIRE(after);
    CHECK(after->up == before->up);
    test::TempDir dir;
    std::filesystem::create_directories(dir / "notns");
    auto bad = run(ours(), "ADD", dir / "notns", conf("1.0.0"));
    REQUIRE(bad.json);
    CHECK(bad.json->at("code") == 8);
}

TEST_CASE("ADD timing, ours vs reference", "[.bench][loopback]") {
    auto median = [](const std::string& bin) {
        test::ScratchNetns ns;
        std::vector<double> ms;
        for (int i = 0; i < 200; ++i) {
            auto t0 = std::chrono::steady_clock::now();
            auto r = run(bin, "ADD", ns.path(), conf("1.0.0"));
            auto t1 = std::chrono::steady_clock::now();
            REQUIRE(r.exitCode == 0);
            ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        return ms[ms.size() / 2];
    };
    double a = median(ours());
    WARN("loopback ADD median: ours " << a << " ms");
    if (!reference().empty()) WARN("reference " << median(reference()) << " ms");
}
