// build/bin/sbr chained after macvlan on a second interface (net1) of a container whose eth0 is a
// bridge port with the default route, side by side with /usr/lib/cni/sbr. Net1's LAN is a veth
// pair: m1 in the test's own netns (the macvlan master), p1 in a "LAN" netns that also holds
// 10.99.0.5, an address no container route leads to except the one sbr puts in net1's table.
#include <unistd.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;

namespace {

const char* kRef = "/usr/lib/cni/sbr";

struct Lan {
    ScratchNetns ns;
    Lan() {
        REQUIRE(execHere({"ip", "link", "add", "m1", "type", "veth", "peer", "name", "p1", "netns",
                          ns.path()})
                    .exitCode == 0);
        REQUIRE(execHere({"ip", "link", "set", "m1", "up"}).exitCode == 0);
        REQUIRE(ns.exec({"ip", "link", "set", "p1", "up"}).exitCode == 0);
        REQUIRE(ns.exec({"ip", "addr", "add", "10.71.0.1/24", "dev", "p1"}).exitCode == 0);
        REQUIRE(ns.exec({"ip", "addr", "add", "10.99.0.5/32", "dev", "lo"}).exitCode == 0);
    }
    ~Lan() { execHere({"ip", "link", "del", "m1"}); }
    // One ping from 10.99.0.5 to `dst`: true when the reply came back.
    bool pingFromFar(const std::string& dst) const {
        return ns.exec({"ping", "-c", "1", "-W", "1", "-I", "10.99.0.5", dst}).exitCode == 0;
    }
};

std::vector<std::pair<std::string, std::string>>
env(const std::string& id, const std::string& netns, const std::string& ifname) {
    return {{"CNI_CONTAINERID", id},
            {"CNI_NETNS", netns},
            {"CNI_IFNAME", ifname},
            {"CNI_PATH", binDir()}};
}

json bridgeConf(const std::string& dataDir) {
    return {{"cniVersion", "1.0.0"},
            {"name", "front"},
            {"type", "bridge"},
            {"bridge", "sbrbr0"},
            {"isGateway", true},
            {"ipam",
             {{"type", "host-local"},
              {"subnet", "10.70.0.0/24"},
              {"dataDir", dataDir},
              {"routes", json::array({{{"dst", "0.0.0.0/0"}}})}}}};
}

json macvlanConf(const std::string& dataDir) {
    return {{"cniVersion", "1.0.0"},
            {"name", "back"},
            {"type", "macvlan"},
            {"master", "m1"},
            {"ipam", {{"type", "host-local"}, {"subnet", "10.71.0.0/24"}, {"dataDir", dataDir}}}};
}

json sbrConf(const json& prev, const json& extra = {}) {
    json c = {{"cniVersion", "1.0.0"}, {"name", "back"}, {"type", "sbr"}, {"prevResult", prev}};
    if (!extra.is_null()) c.update(extra);
    return c;
}

// `ip rule` entries with a source, as "from/len table", sorted.
std::vector<std::string> sourceRules(const ScratchNetns& ns) {
    std::vector<std::string> out;
    for (const char* fam : {"-4", "-6"})
        for (const auto& r : ns.exec({"ip", "-j", fam, "rule", "show"}).json())
            if (r.contains("src") && r["src"] != "all")
                out.push_back(r["src"].get<std::string>() + "/" +
                              std::to_string(r.value("srclen", fam[1] == '4' ? 32 : 128)) + " -> " +
                              r["table"].get<std::string>());
    std::sort(out.begin(), out.end());
    return out;
}

// Every route outside the local table, as "table dst via dev proto scope src", sorted.
std::vector<std::string> allRoutes(const ScratchNetns& ns) {
    std::vector<std::string> out;
    for (const char* fam : {"-4", "-6"})
        for (const auto& r : ns.exec({"ip", "-j", fam, "route", "show", "table", "all"}).json()) {
            std::string table = r.value("table", "main");
            if (table == "local") continue;
            out.push_back(table + " " + r.value("dst", "") + " via=" + r.value("gateway", "") +
                          " dev=" + r.value("dev", "") + " proto=" + r.value("protocol", "") +
                          " scope=" + r.value("scope", "") + " src=" + r.value("prefsrc", ""));
        }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> routesOfTable(const ScratchNetns& ns, const std::string& table) {
    std::vector<std::string> out;
    for (const auto& r : allRoutes(ns))
        if (r.starts_with(table + " ")) out.push_back(r);
    return out;
}

// A container with eth0 on the bridge (default route) and net1 a macvlan on m1, no sbr yet.
struct Container {
    ScratchNetns ns;
    TempDir d0, d1;
    std::string id;
    json net1Result;
    explicit Container(std::string cid) : id(std::move(cid)) {
        auto a = runPlugin(binDir() + "/bridge", "ADD", env(id, ns.path(), "eth0"),
                           bridgeConf(d0.path()).dump());
        INFO(a.out << a.err);
        REQUIRE(a.exitCode == 0);
        auto b = runPlugin(binDir() + "/macvlan", "ADD", env(id, ns.path(), "net1"),
                           macvlanConf(d1.path()).dump());
        INFO(b.out << b.err);
        REQUIRE(b.exitCode == 0);
        net1Result = *b.json;
    }
    ~Container() {
        runPlugin(binDir() + "/macvlan", "DEL", env(id, ns.path(), "net1"),
                  macvlanConf(d1.path()).dump());
        runPlugin(binDir() + "/bridge", "DEL", env(id, ns.path(), "eth0"),
                  bridgeConf(d0.path()).dump());
    }
    PluginRun sbr(const std::string& binary, const std::string& cmd, const json& extra = {}) {
        return runPlugin(binary, cmd, env(id, ns.path(), "net1"),
                         sbrConf(net1Result, extra).dump());
    }
};

} // namespace

TEST_CASE("sbr: the reply to a packet that came in on net1 leaves by net1; DEL takes it back",
          "[sbr]") {
    Lan lan;
    Container c("sbr-traffic");
    REQUIRE(c.net1Result["ips"][0]["address"] == "10.71.0.2/24");
    // Without sbr the reply follows the main default route out of eth0 and is lost.
    CHECK_FALSE(lan.pingFromFar("10.71.0.2"));

    auto add = c.sbr(binDir() + "/sbr", "ADD");
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    CHECK(*add.json == c.net1Result); // passed through unchanged
    CHECK(sourceRules(c.ns) == std::vector<std::string>{"10.71.0.2/32 -> 100"});
    auto t100 = routesOfTable(c.ns, "100");
    CHECK(std::find_if(t100.begin(), t100.end(), [](const std::string& r) {
              return r.starts_with("100 default via=10.71.0.1 dev=net1");
          }) != t100.end());
    CHECK(std::find_if(t100.begin(), t100.end(), [](const std::string& r) {
              return r.starts_with("100 10.71.0.0/24 via= dev=net1");
          }) != t100.end());
    // net1's subnet route moved out of main; eth0's default route stays there.
    for (const auto& r : routesOfTable(c.ns, "main"))
        CHECK(r.find("dev=net1") == std::string::npos);
    CHECK(lan.pingFromFar("10.71.0.2"));
    // Replies from eth0's address still use main.
    CHECK(
        c.ns.exec({"ip", "route", "get", "10.99.0.5", "from", "10.70.0.2"}).out.find("dev eth0") !=
        std::string::npos);

    CHECK(c.sbr(binDir() + "/sbr", "CHECK").exitCode == 0);
    auto del = c.sbr(binDir() + "/sbr", "DEL");
    INFO(del.out << del.err);
    REQUIRE(del.exitCode == 0);
    CHECK(sourceRules(c.ns).empty());
    CHECK(routesOfTable(c.ns, "100").empty());
    CHECK_FALSE(lan.pingFromFar("10.71.0.2"));
    // CHECK now sees the rule missing; a second DEL is still fine.
    auto chk = c.sbr(binDir() + "/sbr", "CHECK");
    CHECK(chk.exitCode != 0);
    CHECK(chk.out.find("10.71.0.2") != std::string::npos);
    CHECK(c.sbr(binDir() + "/sbr", "DEL").exitCode == 0);
}

TEST_CASE("sbr: same rules and tables as the reference sbr on the same container", "[sbr]") {
    REQUIRE(::access(kRef, X_OK) == 0);
    Lan lan;
    std::vector<std::string> rules[2], routes[2];
    for (int i = 0; i < 2; ++i) {
        Container c(i == 0 ? "sbr-ours" : "sbr-ref");
        // A rule already looks up table 100, so both must pick the next free one. (A table that
        // only holds routes is not seen by the reference, which lists main's routes only; ours
        // skips it too: see the table-key case.)
        REQUIRE(
            c.ns.exec({"ip", "rule", "add", "from", "198.51.100.1", "lookup", "100"}).exitCode ==
            0);
        auto add = c.sbr(i == 0 ? binDir() + "/sbr" : kRef, "ADD");
        INFO(add.out << add.err);
        REQUIRE(add.exitCode == 0);
        rules[i] = sourceRules(c.ns);
        routes[i] = allRoutes(c.ns);
        REQUIRE(c.sbr(binDir() + "/sbr", "DEL").exitCode == 0);
        CHECK(sourceRules(c.ns) == std::vector<std::string>{"198.51.100.1/32 -> 100"});
        CHECK(routesOfTable(c.ns, "101").empty());
    }
    CHECK(rules[0] == std::vector<std::string>{"10.71.0.2/32 -> 101", "198.51.100.1/32 -> 100"});
    CHECK(rules[0] == rules[1]);
    CHECK(routes[0] == routes[1]);
}

TEST_CASE("sbr: table key, one table per address, next free ids", "[sbr]") {
    ScratchNetns ns;
    REQUIRE(
        ns.exec({"ip", "link", "add", "net1", "type", "veth", "peer", "name", "peer1"}).exitCode ==
        0);
    REQUIRE(ns.exec({"ip", "link", "set", "net1", "up"}).exitCode == 0);
    for (const char* a : {"10.72.0.2/24", "10.72.0.3/24", "10.72.0.4/24"})
        REQUIRE(ns.exec({"ip", "addr", "add", a, "dev", "net1"}).exitCode == 0);
    REQUIRE(ns.exec({"ip", "rule", "add", "from", "198.51.100.1", "lookup", "201"}).exitCode == 0);
    REQUIRE(ns.exec({"ip", "route", "add", "192.0.2.0/24", "dev", "lo", "table", "203"}).exitCode ==
            0);
    json prev = {{"cniVersion", "1.0.0"},
                 {"interfaces", json::array({{{"name", "other"}}, {{"name", "net1"}}})},
                 {"ips", json::array({{{"address", "10.72.0.2/24"}, {"interface", 1}},
                                      {{"address", "10.72.0.3/24"}, {"gateway", "10.72.0.1"}},
                                      {{"address", "10.73.0.9/24"}, {"interface", 0}},
                                      {{"address", "10.72.0.4/24"}, {"interface", 1}}})}};
    auto run = [&](const std::string& cmd) {
        return runPlugin(binDir() + "/sbr", cmd, env("sbr-table", ns.path(), "net1"),
                         sbrConf(prev, {{"table", 200}}).dump());
    };
    auto add = run("ADD");
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    // 200 as asked, then 202 (a rule uses 201), then 204 (203 holds a route); the address of
    // interface 0 gets nothing.
    CHECK(sourceRules(ns) == std::vector<std::string>{"10.72.0.2/32 -> 200", "10.72.0.3/32 -> 202",
                                                      "10.72.0.4/32 -> 204",
                                                      "198.51.100.1/32 -> 201"});
    auto t202 = routesOfTable(ns, "202");
    CHECK(std::find_if(t202.begin(), t202.end(), [](const std::string& r) {
              return r.starts_with("202 default via=10.72.0.1 dev=net1");
          }) != t202.end());
    CHECK(routesOfTable(ns, "200").size() == 1); // the subnet route only (no gateway)
    CHECK(run("CHECK").exitCode == 0);
    REQUIRE(run("DEL").exitCode == 0);
    CHECK(sourceRules(ns) == std::vector<std::string>{"198.51.100.1/32 -> 201"});
    CHECK(routesOfTable(ns, "200").empty());
    CHECK(routesOfTable(ns, "202").empty());
    CHECK(routesOfTable(ns, "204").empty());
    CHECK(routesOfTable(ns, "203").size() == 1); // not ours: left alone
}

TEST_CASE("sbr: an ADD that fails midway leaves the container as it was", "[sbr]") {
    ScratchNetns ns;
    REQUIRE(
        ns.exec({"ip", "link", "add", "net1", "type", "veth", "peer", "name", "peer1"}).exitCode ==
        0);
    REQUIRE(ns.exec({"ip", "link", "set", "net1", "up"}).exitCode == 0);
    for (const char* a : {"10.75.0.2/24", "10.75.0.3/24"})
        REQUIRE(ns.exec({"ip", "addr", "add", a, "dev", "net1"}).exitCode == 0);
    const auto before = allRoutes(ns);
    // The second address's gateway is on no subnet of net1: its default route cannot be added,
    // after the first address's rule and table are already in place.
    json prev = {
        {"cniVersion", "1.0.0"},
        {"interfaces", json::array({{{"name", "net1"}}})},
        {"ips",
         json::array({{{"address", "10.75.0.2/24"}, {"interface", 0}, {"gateway", "10.75.0.1"}},
                      {{"address", "10.75.0.3/24"}, {"interface", 0}, {"gateway", "192.0.2.1"}}})}};
    auto add = runPlugin(binDir() + "/sbr", "ADD", env("sbr-undo", ns.path(), "net1"),
                         sbrConf(prev).dump());
    INFO(add.out << add.err);
    CHECK(add.exitCode != 0);
    CHECK(add.out.find("192.0.2.1") != std::string::npos);
    CHECK(sourceRules(ns).empty());
    CHECK(allRoutes(ns) == before);
}

TEST_CASE("sbr: bad input is code 7 naming the key, nothing touched; DEL of what is gone is fine",
          "[sbr]") {
    ScratchNetns ns;
    REQUIRE(
        ns.exec({"ip", "link", "add", "net1", "type", "veth", "peer", "name", "peer1"}).exitCode ==
        0);
    REQUIRE(ns.exec({"ip", "addr", "add", "10.74.0.2/24", "dev", "net1"}).exitCode == 0);
    json prev = {{"cniVersion", "1.0.0"},
                 {"interfaces", json::array({{{"name", "net1"}}})},
                 {"ips", json::array({{{"address", "10.74.0.2/24"}, {"interface", 0}}})}};
    auto run = [&](const std::string& cmd, const json& c, const std::string& netns) {
        return runPlugin(binDir() + "/sbr", cmd, env("sbr-bad", netns, "net1"), c.dump());
    };
    struct Bad {
        json conf;
        std::string word;
    };
    json noPrev = sbrConf(prev);
    noPrev.erase("prevResult");
    json noIps = prev;
    noIps["ips"] = json::array();
    for (const Bad& b :
         {Bad{sbrConf(prev, {{"table", 254}}), "table"},
          Bad{sbrConf(prev, {{"table", 0}}), "table"}, Bad{sbrConf(prev, {{"table", -5}}), "table"},
          Bad{noPrev, "prevResult"}, Bad{sbrConf(noIps), "prevResult.ips"}}) {
        auto r = run("ADD", b.conf, ns.path());
        INFO(b.conf.dump() << " -> " << r.out);
        CHECK(r.exitCode != 0);
        REQUIRE(r.json);
        CHECK((*r.json)["code"] == 7);
        CHECK((*r.json)["msg"].get<std::string>().find(b.word) != std::string::npos);
    }
    CHECK(sourceRules(ns).empty());
    // A link that is gone, a netns that is gone, no netns at all: success.
    REQUIRE(ns.exec({"ip", "link", "del", "net1"}).exitCode == 0);
    CHECK(run("DEL", sbrConf(prev), ns.path()).exitCode == 0);
    CHECK(run("DEL", sbrConf(prev), "/run/netns/tether-no-such-ns").exitCode == 0);
    CHECK(run("DEL", sbrConf(prev), "").exitCode == 0);
}
