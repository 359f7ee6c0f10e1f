// build/bin/macvlan driven as a runtime would, side by side with /usr/lib/cni/macvlan on the
// same configs. The "host" is the test's own netns (ctest unshares it); the master is one end of
// a veth pair whose other end sits in a "LAN" netns, so what the container sends is seen there.
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kRef = "/usr/lib/cni/macvlan";

// CNI_PATH with `macvlan` (ours or the reference) and our host-local.
struct Plugins {
    TempDir dir;
    explicit Plugins(bool ours) {
        fs::create_symlink(ours ? binDir() + "/macvlan" : kRef, dir.path() / "macvlan");
        fs::create_symlink(binDir() + "/host-local", dir.path() / "host-local");
    }
};

// The master m0 in the host, its peer p0 in the LAN netns with 10.60.0.200/24; the LAN accepts
// gratuitous ARP so an announcement shows up in its neighbour table.
struct Lan {
    ScratchNetns ns;
    explicit Lan(const std::string& master = "m0") : name(master) {
        REQUIRE(execHere({"ip", "link", "add", name, "type", "veth", "peer", "name", "p0", "netns",
                          ns.path()})
                    .exitCode == 0);
        REQUIRE(execHere({"ip", "link", "set", name, "up"}).exitCode == 0);
        REQUIRE(ns.exec({"ip", "link", "set", "p0", "up"}).exitCode == 0);
        REQUIRE(ns.exec({"ip", "addr", "add", "10.60.0.200/24", "dev", "p0"}).exitCode == 0);
        REQUIRE(ns.exec({"sysctl", "-qw", "net.ipv4.conf.p0.arp_accept=1"}).exitCode == 0);
    }
    ~Lan() { execHere({"ip", "link", "del", name}); }
    std::string name;
    // The MAC the LAN has for `ip` (empty when it has none).
    std::string neighbour(const std::string& ip) const {
        for (const auto& n : ns.exec({"ip", "-j", "neigh", "show", "dev", "p0"}).json())
            if (n.value("dst", "") == ip) return n.value("lladdr", "");
        return "";
    }
};

json conf(const std::string& version, const std::string& dataDir, const json& extra = {}) {
    json c = {{"cniVersion", version},
              {"name", "mvnet"},
              {"type", "macvlan"},
              {"master", "m0"},
              {"ipam",
               {{"type", "host-local"},
                {"subnet", "10.60.0.0/24"},
                {"dataDir", dataDir},
                {"routes", json::array({{{"dst", "0.0.0.0/0"}}})}}}};
    if (!extra.is_null()) c.update(extra);
    return c;
}

PluginRun call(const Plugins& p, const std::string& cmd, const std::string& id,
               const std::string& netns, const json& c, const std::string& cniArgs = "") {
    std::vector<std::pair<std::string, std::string>> env = {{"CNI_CONTAINERID", id},
                                                            {"CNI_NETNS", netns},
                                                            {"CNI_IFNAME", "eth0"},
                                                            {"CNI_PATH", p.dir.path().string()}};
    if (!cniArgs.empty()) env.emplace_back("CNI_ARGS", cniArgs);
    return runPlugin(p.dir / "macvlan", cmd, env, c.dump());
}

// What `ip -d -j link` says about eth0 in `ns`.
json eth0(const ScratchNetns& ns) {
    auto r = ns.exec({"ip", "-d", "-j", "link", "show", "eth0"});
    REQUIRE(r.exitCode == 0);
    return r.json()[0];
}

std::vector<std::string> v4Addresses(const ScratchNetns& ns) {
    std::vector<std::string> out;
    for (const auto& l : ns.exec({"ip", "-j", "-4", "addr", "show", "eth0"}).json())
        for (const auto& a : l["addr_info"])
            out.push_back(a["local"].get<std::string>() + "/" +
                          std::to_string(a["prefixlen"].get<int>()));
    return out;
}

std::vector<std::string> routes(const ScratchNetns& ns) {
    std::vector<std::string> out;
    for (const auto& r : ns.exec({"ip", "-j", "route", "show"}).json())
        out.push_back(r.value("dst", "") + " via=" + r.value("gateway", "") +
                      " dev=" + r.value("dev", "") + " scope=" + r.value("scope", "global"));
    std::sort(out.begin(), out.end());
    return out;
}

std::size_t macvlansOnHost() {
    return execHere({"ip", "-j", "link", "show", "type", "macvlan"}).json().size();
}

} // namespace

TEST_CASE("macvlan: same container state as the reference, announced, reachable, gone after DEL",
          "[macvlan]") {
    REQUIRE(::access(kRef, X_OK) == 0);
    Lan lan;
    Plugins ours(true), ref(false);
    TempDir d1, d2;
    ScratchNetns a, b;
    json ca = conf("1.0.0", d1.path(), {{"mtu", 1400}});
    json cb = conf("1.0.0", d2.path(), {{"mtu", 1400}});
    cb["ipam"]["rangeStart"] = "10.60.0.100";
    auto add = call(ours, "ADD", "mva", a.path(), ca);
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    auto refAdd = call(ref, "ADD", "mvb", b.path(), cb);
    INFO(refAdd.out << refAdd.err);
    REQUIRE(refAdd.exitCode == 0);
    json res = *add.json, refRes = *refAdd.json;

    // The result has the reference's shape: one interface (the container's), ips -> 0.
    REQUIRE(res["interfaces"].size() == 1);
    CHECK(refRes["interfaces"].size() == 1);
    CHECK(res["interfaces"][0]["name"] == "eth0");
    CHECK(res["interfaces"][0]["sandbox"] == a.path());
    CHECK(res["ips"][0]["interface"] == 0);
    CHECK(res["ips"][0]["address"] == "10.60.0.2/24");
    CHECK(res["ips"][0]["gateway"] == "10.60.0.1");
    CHECK(res["routes"] == refRes["routes"]);

    // Same device in both containers: a macvlan of m0 in bridge mode, MTU 1400, up.
    json la = eth0(a), lb = eth0(b);
    CHECK(la["linkinfo"]["info_kind"] == "macvlan");
    CHECK(la["linkinfo"]["info_data"]["mode"] == lb["linkinfo"]["info_data"]["mode"]);
    CHECK(la["linkinfo"]["info_data"]["mode"] == "bridge");
    CHECK(la["mtu"] == 1400);
    CHECK(lb["mtu"] == 1400);
    CHECK(la["operstate"] == lb["operstate"]);
    CHECK(la["address"] == res["interfaces"][0]["mac"]);
    CHECK(v4Addresses(a) == std::vector<std::string>{"10.60.0.2/24"});
    CHECK(v4Addresses(b) == std::vector<std::string>{"10.60.0.100/24"});
    auto ra = routes(a), rb = routes(b);
    CHECK(ra == rb);
    CHECK(std::find(ra.begin(), ra.end(), "default via=10.60.0.1 dev=eth0 scope=global") !=
          ra.end());
    // Nothing of the container is left in the host.
    CHECK(macvlansOnHost() == 0);

    // The LAN learned both containers' MACs from their announcements, before any traffic.
    CHECK(lan.neighbour("10.60.0.2") == la["address"]);
    CHECK(lan.neighbour("10.60.0.100") == lb["address"]);
    // And the container reaches the LAN, the two containers reach each other (bridge mode).
    CHECK(a.exec({"ping", "-c1", "-W2", "10.60.0.200"}).exitCode == 0);
    CHECK(a.exec({"ping", "-c1", "-W2", "10.60.0.100"}).exitCode == 0);

    json prev = ca;
    prev["prevResult"] = res;
    CHECK(call(ours, "CHECK", "mva", a.path(), prev).exitCode == 0);
    json wrongMode = prev;
    wrongMode["mode"] = "private";
    auto badCheck = call(ours, "CHECK", "mva", a.path(), wrongMode);
    CHECK(badCheck.exitCode != 0);
    CHECK(badCheck.out.find("mode") != std::string::npos);

    CHECK(call(ours, "DEL", "mva", a.path(), prev).exitCode == 0);
    CHECK(a.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
    CHECK(!fs::exists(d1.path() / "mvnet" / "10.60.0.2"));
    CHECK(call(ours, "DEL", "mva", a.path(), prev).exitCode == 0); // idempotent
    json refPrev = cb;
    refPrev["prevResult"] = refRes;
    CHECK(call(ref, "DEL", "mvb", b.path(), refPrev).exitCode == 0);
    CHECK(b.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
}

TEST_CASE("macvlan: every spec version, as the reference answers them", "[macvlan]") {
    Lan lan;
    Plugins ours(true), ref(false);
    for (std::string v : {"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        INFO("version " << v);
        TempDir d1, d2;
        ScratchNetns a, b;
        auto add = call(ours, "ADD", "v1", a.path(), conf(v, d1.path()));
        auto refAdd = call(ref, "ADD", "v2", b.path(), conf(v, d2.path()));
        INFO(add.out << refAdd.out);
        REQUIRE(add.exitCode == 0);
        REQUIRE(add.json);
        CHECK((*add.json)["cniVersion"] == v);
        if (v == "0.1.0" || v == "0.2.0") {
            CHECK((*add.json)["ip4"]["ip"] == "10.60.0.2/24");
        } else {
            CHECK((*add.json)["interfaces"].size() == 1);
            CHECK((*add.json)["ips"][0]["address"] == "10.60.0.2/24");
        }
        // The reference (1.1.1 here) speaks up to 1.0.0; where it answers, the keys agree.
        if (refAdd.exitCode == 0) {
            for (const auto& [k, val] : refAdd.json->items())
                if (k != "dns") CHECK(add.json->contains(k));
        } else {
            CHECK(v == "1.1.0");
        }
        CHECK(call(ours, "DEL", "v1", a.path(), conf(v, d1.path())).exitCode == 0);
        if (refAdd.exitCode == 0)
            CHECK(call(ref, "DEL", "v2", b.path(), conf(v, d2.path())).exitCode == 0);
        CHECK(a.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
    }
}

TEST_CASE("macvlan: modes as the kernel reports them; private containers cannot talk",
          "[macvlan]") {
    Lan lan;
    Plugins ours(true);
    for (std::string mode : {"bridge", "private", "vepa", "source", "passthru"}) {
        INFO("mode " << mode);
        TempDir data;
        ScratchNetns a, b;
        json c = conf("1.0.0", data.path(), {{"mode", mode}});
        auto add = call(ours, "ADD", "ma", a.path(), c);
        INFO(add.out);
        REQUIRE(add.exitCode == 0);
        CHECK(eth0(a)["linkinfo"]["info_data"]["mode"] == mode);
        json prev = c;
        prev["prevResult"] = *add.json;
        CHECK(call(ours, "CHECK", "ma", a.path(), prev).exitCode == 0);
        if (mode == "bridge" || mode == "private") {
            auto addB = call(ours, "ADD", "mb", b.path(), c);
            REQUIRE(addB.exitCode == 0);
            bool talks = a.exec({"ping", "-c1", "-W1", "10.60.0.3"}).exitCode == 0;
            CHECK(talks == (mode == "bridge"));
            CHECK(call(ours, "DEL", "mb", b.path(), c).exitCode == 0);
        }
        if (mode == "passthru") {
            // One passthru device takes the whole master: a second one is refused.
            auto second = call(ours, "ADD", "mb", b.path(), c);
            CHECK(second.exitCode != 0);
            CHECK(b.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
            CHECK(!fs::exists(data.path() / "mvnet" / "10.60.0.3"));
        }
        CHECK(call(ours, "DEL", "ma", a.path(), c).exitCode == 0);
    }
}

TEST_CASE("macvlan: L2 only without ipam, MAC from CNI_ARGS and runtimeConfig, bcqueuelen",
          "[macvlan]") {
    Lan lan;
    Plugins ours(true), ref(false);
    ScratchNetns a, b;
    json c = {{"cniVersion", "1.0.0"}, {"name", "l2"}, {"type", "macvlan"}, {"master", "m0"}};
    auto add = call(ours, "ADD", "l2a", a.path(), c, "IgnoreUnknown=1;MAC=02:00:00:00:10:01");
    INFO(add.out);
    REQUIRE(add.exitCode == 0);
    auto refAdd = call(ref, "ADD", "l2b", b.path(), c, "IgnoreUnknown=1;MAC=02:00:00:00:10:02");
    REQUIRE(refAdd.exitCode == 0);
    CHECK(!add.json->contains("ips"));
    CHECK(!refAdd.json->contains("ips"));
    CHECK((*add.json)["interfaces"][0]["mac"] == "02:00:00:00:10:01");
    json la = eth0(a);
    CHECK(la["address"] == "02:00:00:00:10:01");
    CHECK(eth0(b)["address"] == "02:00:00:00:10:02");
    CHECK(std::find(la["flags"].begin(), la["flags"].end(), "UP") != la["flags"].end());
    CHECK(v4Addresses(a).empty());
    CHECK(v4Addresses(b).empty());
    CHECK(call(ours, "DEL", "l2a", a.path(), c).exitCode == 0);
    CHECK(call(ref, "DEL", "l2b", b.path(), c).exitCode == 0);

    // runtimeConfig.mac (the `mac` capability) wins over CNI_ARGS; bcqueuelen reaches the kernel.
    json c2 = c;
    c2["runtimeConfig"] = {{"mac", "02:00:00:00:10:03"}};
    c2["bcqueuelen"] = 3000;
    auto add2 = call(ours, "ADD", "l2a", a.path(), c2, "MAC=02:00:00:00:10:09");
    INFO(add2.out);
    REQUIRE(add2.exitCode == 0);
    la = eth0(a);
    CHECK(la["address"] == "02:00:00:00:10:03");
    CHECK(la["linkinfo"]["info_data"]["bcqueuelen"] == 3000);
    CHECK(call(ours, "DEL", "l2a", a.path(), c2).exitCode == 0);

    // A 0.2.0 result cannot carry an interface without an address: refused before anything is
    // made (the reference makes the device, fails to print the result and leaves it behind).
    json old = c;
    old["cniVersion"] = "0.2.0";
    auto l2old = call(ours, "ADD", "l2o", a.path(), old);
    CHECK(l2old.exitCode == 1);
    CHECK((*l2old.json)["code"] == 1);
    CHECK(a.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
}

TEST_CASE("macvlan: default master is the default-route interface; linkInContainer", "[macvlan]") {
    Lan lan;
    Plugins ours(true);
    REQUIRE(execHere({"ip", "addr", "add", "10.60.0.254/24", "dev", "m0"}).exitCode == 0);
    REQUIRE(execHere({"ip", "route", "add", "default", "via", "10.60.0.200"}).exitCode == 0);
    TempDir data;
    ScratchNetns a;
    json c = conf("1.0.0", data.path());
    c.erase("master");
    auto add = call(ours, "ADD", "dm", a.path(), c);
    INFO(add.out);
    REQUIRE(add.exitCode == 0);
    CHECK(a.exec({"ping", "-c1", "-W2", "10.60.0.200"}).exitCode == 0);
    CHECK(call(ours, "DEL", "dm", a.path(), c).exitCode == 0);
    execHere({"ip", "route", "del", "default"});

    // linkInContainer: the master is a link inside the container netns (its peer stays there).
    ScratchNetns b;
    REQUIRE(b.exec({"ip", "link", "add", "inner0", "type", "veth", "peer", "name", "inner1"})
                .exitCode == 0);
    REQUIRE(b.exec({"ip", "link", "set", "inner0", "up"}).exitCode == 0);
    json ci = conf("1.0.0", data.path(), {{"master", "inner0"}, {"linkInContainer", true}});
    auto addIn = call(ours, "ADD", "li", b.path(), ci);
    INFO(addIn.out);
    REQUIRE(addIn.exitCode == 0);
    json l = eth0(b);
    CHECK(l["linkinfo"]["info_kind"] == "macvlan");
    CHECK(l["link"] == "inner0"); // parent in the same netns: ip names it
    json prev = ci;
    prev["prevResult"] = *addIn.json;
    CHECK(call(ours, "CHECK", "li", b.path(), prev).exitCode == 0);
    // Without linkInContainer the same master is not found in the host.
    json host = ci;
    host.erase("linkInContainer");
    ScratchNetns x;
    auto miss = call(ours, "ADD", "lx", x.path(), host);
    CHECK(miss.exitCode == 1);
    CHECK((*miss.json)["code"] == 7);
    CHECK(call(ours, "DEL", "li", b.path(), ci).exitCode == 0);
    CHECK(b.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
}

TEST_CASE("macvlan: bad input is refused before anything changes", "[macvlan]") {
    Lan lan;
    Plugins ours(true);
    TempDir data;
    ScratchNetns a;
    struct Bad {
        json keys;
        int code;
        std::string word;
    };
    for (const auto& bad : std::vector<Bad>{{{{"mode", "turbo"}}, 7, "turbo"},
                                            {{{"mtu", 9000}}, 7, "MTU"},
                                            {{{"mtu", -1}}, 7, "MTU"},
                                            {{{"master", "nosuch0"}}, 7, "nosuch0"},
                                            {{{"mac", "zz:00"}}, 7, "zz:00"},
                                            {{{"mtu", "big"}}, 6, "mtu"},
                                            {{{"linkInContainer", "yes"}}, 6, "linkInContainer"}}) {
        INFO(bad.keys.dump());
        auto r = call(ours, "ADD", "bad", a.path(), conf("1.0.0", data.path(), bad.keys));
        CHECK(r.exitCode == 1);
        REQUIRE(r.json);
        CHECK((*r.json)["code"] == bad.code);
        CHECK((*r.json)["msg"].get<std::string>().find(bad.word) != std::string::npos);
        CHECK(a.exec({"ip", "link", "show", "eth0"}).exitCode != 0);
        CHECK(!fs::exists(data.path() / "mvnet" / "10.60.0.2"));
    }
    auto r = call(ours, "ADD", "bad", a.path(), conf("1.0.0", data.path()), "FOO=1");
    CHECK((*r.json)["code"] == 4);
}

TEST_CASE("macvlan: DEL after the container netns is gone releases the lease", "[macvlan]") {
    Lan lan;
    Plugins ours(true);
    TempDir data;
    std::string path;
    json c = conf("1.0.0", data.path());
    {
        ScratchNetns a;
        path = a.path();
        REQUIRE(call(ours, "ADD", "gone", a.path(), c).exitCode == 0);
        CHECK(fs::exists(data.path() / "mvnet" / "10.60.0.2"));
    }
    // The netns is gone, and with it the macvlan (a virtual device dies with its netns).
    CHECK(macvlansOnHost() == 0);
    auto del = call(ours, "DEL", "gone", path, c);
    INFO(del.out);
    CHECK(del.exitCode == 0);
    CHECK(!fs::exists(data.path() / "mvnet" / "10.60.0.2"));
    CHECK(call(ours, "DEL", "gone", "", c).exitCode == 0);
}
