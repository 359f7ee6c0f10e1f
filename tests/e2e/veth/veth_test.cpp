// The veth plugin (installed as ptp too) driven as a runtime drives it, compared with the
// reference ptp on the same config.
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A CNI_PATH with `ptp` (ours or the reference) and our host-local.
struct Plugins {
    TempDir dir;
    explicit Plugins(bool ours) {
        fs::create_symlink(ours ? binDir() + "/ptp" : "/usr/lib/cni/ptp", dir.path() / "ptp");
        fs::create_symlink(binDir() + "/host-local", dir.path() / "host-local");
    }
};

json ptpConfig(const std::string& version, const std::string& dataDir, const std::string& subnet) {
    return {{"cniVersion", version},
            {"name", "ptpnet"},
            {"type", "ptp"},
            {"mtu", 1400},
            {"ipam",
             {{"type", "host-local"},
              {"subnet", subnet},
              {"dataDir", dataDir},
              {"routes", json::array({{{"dst", "0.0.0.0/0"}}})}}}};
}

PluginRun call(const Plugins& p, const std::string& cmd, const std::string& id,
               const std::string& netns, const json& conf) {
    return runPlugin(p.dir / "ptp", cmd,
                     {{"CNI_CONTAINERID", id},
                      {"CNI_NETNS", netns},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", p.dir.path().string()}},
                     conf.dump());
}

// "dst via gw dev scope" lines of the container's main table, sorted, without kernel noise.
std::vector<std::string> routesOf(const ScratchNetns& ns) {
    std::vector<std::string> out;
    for (const auto& r : ns.exec({"ip", "-j", "route", "show"}).json())
        out.push_back(r.value("dst", "") + " via=" + r.value("gateway", "") +
                      " scope=" + r.value("scope", "global") + " src=" + r.value("prefsrc", ""));
    std::sort(out.begin(), out.end());
    return out;
}

std::size_t vethCount() {
    return execHere({"ip", "-j", "link", "show", "type", "veth"}).json().size();
}

} // namespace

TEST_CASE("ptp: container routes match the reference ptp, host has /32 routes", "[veth]") {
    if (::access("/usr/lib/cni/ptp", X_OK) != 0) FAIL("reference ptp missing in /usr/lib/cni");
    TempDir data1, data2;
    Plugins ours(true), ref(false);
    ScratchNetns a, b;
    json conf = ptpConfig("1.0.0", data1.path(), "10.31.0.0/24");
    auto add = call(ours, "ADD", "pa", a.path(), conf);
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    json res = *add.json;
    REQUIRE(res["interfaces"].size() == 2);
    CHECK(res["interfaces"][1]["sandbox"] == a.path());
    CHECK(res["ips"][0]["interface"] == 1);
    CHECK(res["ips"][0]["address"] == "10.31.0.2/24");

    auto refAdd =
        call(ref, "ADD", "pb", b.path(), ptpConfig("1.0.0", data2.path(), "10.31.0.0/24"));
    INFO(refAdd.out);
    REQUIRE(refAdd.exitCode == 0);
    CHECK(routesOf(a) == routesOf(b));
    auto mtu = a.exec({"ip", "-j", "link", "show", "eth0"}).json()[0]["mtu"];
    CHECK(mtu == 1400);

    // The host reaches the container through its /32 route and the container its gateway.
    std::string hostVeth = res["interfaces"][0]["name"];
    auto hostRoute = execHere({"ip", "-j", "route", "show", "10.31.0.2"}).json();
    REQUIRE(hostRoute.size() >= 1);
    CHECK(hostRoute[0]["dev"] == hostVeth);
    CHECK(a.exec({"ping", "-c2", "-i0.2", "-W2", "10.31.0.1"}).exitCode == 0);

    json withPrev = conf;
    withPrev["prevResult"] = res;
    CHECK(call(ours, "CHECK", "pa", a.path(), withPrev).exitCode == 0);
    CHECK(call(ours, "DEL", "pa", a.path(), withPrev).exitCode == 0);
    CHECK(call(ours, "DEL", "pa", a.path(), withPrev).exitCode == 0);
    CHECK(fs::exists(fs::path(data1.path()) / "ptpnet" / "10.31.0.2") == false);
    CHECK(a.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
    json refPrev = ptpConfig("1.0.0", data2.path(), "10.31.0.0/24");
    refPrev["prevResult"] = *refAdd.json;
    CHECK(call(ref, "DEL", "pb", b.path(), refPrev).exitCode == 0);
    CHECK(vethCount() == 0);
}

TEST_CASE("ptp: two containers talk through the host, dual stack", "[veth]") {
    TempDir data;
    Plugins ours(true);
    ScratchNetns a, b;
    json conf = ptpConfig("1.1.0", data.path(), "10.32.0.0/24");
    conf["ipam"].erase("subnet");
    conf["ipam"]["ranges"] = json::array(
        {json::array({{{"subnet", "10.32.0.0/24"}}}), json::array({{{"subnet", "fd32::/64"}}})});
    auto addA = call(ours, "ADD", "da", a.path(), conf);
    auto addB = call(ours, "ADD", "db", b.path(), conf);
    INFO(addA.out << addB.out);
    REQUIRE(addA.exitCode == 0);
    REQUIRE(addB.exitCode == 0);
    CHECK(a.exec({"ping", "-c2", "-i0.2", "-W2", "10.32.0.3"}).exitCode == 0);
    CHECK(a.exec({"ping", "-6", "-c2", "-i0.2", "-W2", "fd32::3"}).exitCode == 0);
    CHECK(call(ours, "DEL", "da", a.path(), conf).exitCode == 0);
    CHECK(call(ours, "DEL", "db", b.path(), conf).exitCode == 0);
    CHECK(vethCount() == 0);
}

TEST_CASE("ptp: bad configs are refused and leave nothing", "[veth]") {
    TempDir data;
    Plugins ours(true);
    ScratchNetns a;
    json noIpam = {{"cniVersion", "1.0.0"}, {"name", "ptpnet"}, {"type", "ptp"}};
    auto r1 = call(ours, "ADD", "x", a.path(), noIpam);
    CHECK(r1.exitCode != 0);
    CHECK((*r1.json)["code"] == 7);
    CHECK(r1.out.find("ipam") != std::string::npos);
    json badMtu = ptpConfig("1.0.0", data.path(), "10.33.0.0/24");
    badMtu["mtu"] = 20;
    auto r2 = call(ours, "ADD", "x", a.path(), badMtu);
    CHECK((*r2.json)["code"] == 7);
    CHECK(vethCount() == 0);
    CHECK(!fs::exists(fs::path(data.path()) / "ptpnet" / "10.33.0.2"));
}
