// dhcp IPAM against a real DHCP server (busybox udhcpd on a bridge in the test's netns): the
// container gets the server's address, options become the result, the lease is renewed past
// its lifetime, DEL sends a RELEASE the server records, and failures are clear CNI errors.
// Ours (plugin + daemon) and, where it works, the reference's side by side.
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/dhcp/dhcp_env.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether::test;
using nlohmann::json;

namespace {

json bridgeConf(const DhcpEnv& env, const std::string& bridge, json ipamExtra = json::object()) {
    json ipam = {{"type", "dhcp"}, {"daemonSocketPath", env.socketPath()}};
    ipam.update(ipamExtra);
    return {{"cniVersion", "1.0.0"},
            {"name", "dnet"},
            {"type", "bridge"},
            {"bridge", bridge},
            {"ipam", ipam}};
}

std::vector<std::pair<std::string, std::string>> cniEnv(const DhcpEnv& env, const ScratchNetns& ns,
                                                        const std::string& id) {
    return {{"CNI_CONTAINERID", id},
            {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", env.cniPath()},
            {"CNI_NETNS", ns.path()}};
}

std::vector<std::string> addressesIn(const ScratchNetns& ns) {
    std::vector<std::string> out;
    for (const auto& l : ns.exec({"ip", "-j", "-4", "addr", "show", "dev", "eth0"}).json())
        for (const auto& a : l["addr_info"])
            out.push_back(a["local"].get<std::string>() + "/" +
                          std::to_string(a["prefixlen"].get<int>()));
    return out;
}

std::string macIn(const ScratchNetns& ns) {
    return ns.exec({"ip", "-j", "link", "show", "dev", "eth0"}).json()[0]["address"];
}

size_t hostVeths() {
    return execHere({"ip", "-j", "link", "show", "type", "veth"}).json().size();
}

} // namespace

TEST_CASE("bridge + dhcp: the container gets the server's lease, DEL releases it", "[dhcp]") {
    for (bool reference : {false, true}) {
        if (reference && ::access("/usr/lib/cni/dhcp", X_OK) != 0) FAIL("reference dhcp missing");
        DYNAMIC_SECTION((reference ? "reference bridge + dhcp daemon" : "our bridge + dhcp")) {
            const std::string br = reference ? "tbr-dhr" : "tbr-dh1";
            DhcpEnv env(br, reference);
            ScratchNetns ns;
            json extra = {{"provide", {{{"option", "host-name"}, {"value", "ctr-one"}}}}};
            json conf = bridgeConf(env, br, extra);
            const auto vars = cniEnv(env, ns, "dh1");
            auto add = runPlugin(env.bridgePlugin(), "ADD", vars, conf.dump());
            INFO(add.out << add.err << env.daemonLog());
            REQUIRE(add.exitCode == 0);
            REQUIRE(add.json);
            const json& r = *add.json;
            REQUIRE(r["ips"].size() == 1);
            const std::string cidr = r["ips"][0]["address"];
            const std::string ip = cidr.substr(0, cidr.find('/'));
            CHECK(cidr.ends_with("/24"));
            CHECK(r["ips"][0]["gateway"] == "10.40.0.1");
            CHECK(addressesIn(ns) == std::vector<std::string>{cidr});
            auto def = ns.exec({"ip", "-j", "-4", "route", "show", "default"}).json();
            REQUIRE(def.size() == 1);
            CHECK(def[0]["gateway"] == "10.40.0.1");
            // Options 6/15 become the result's dns (the reference returns no dns at all).
            if (!reference) {
                CHECK(r["dns"]["nameservers"] == json{"10.40.0.53", "10.40.0.54"});
                CHECK(r["dns"]["domain"] == "example.test");
            }
            CHECK(ns.exec({"ping", "-c1", "-W2", "10.40.0.1"}).exitCode == 0);

            const std::string mac = macIn(ns);
            auto leases = env.serverLeases();
            REQUIRE(leases.count(mac) == 1);
            CHECK(leases[mac].ip == ip);
            CHECK(leases[mac].remainingSec > 0);
            CHECK(leases[mac].hostname == "ctr-one"); // provide: option 12 reached the server

            conf["prevResult"] = r;
            auto check = runPlugin(env.bridgePlugin(), "CHECK", vars, conf.dump());
            INFO(check.out << check.err);
            CHECK(check.exitCode == 0);

            auto del = runPlugin(env.bridgePlugin(), "DEL", vars, conf.dump());
            INFO(del.out << del.err << env.daemonLog());
            CHECK(del.exitCode == 0);
            CHECK(hostVeths() == 0);
            leases = env.serverLeases();
            REQUIRE(leases.count(mac) == 1);
            // RELEASE: udhcpd marks the lease expired. (The reference daemon's RELEASE fails here,
            // "failed to release DHCP lease: no such device", so the server keeps its lease.)
            if (!reference) CHECK(leases[mac].remainingSec == -1);
            CHECK(runPlugin(env.bridgePlugin(), "DEL", vars, conf.dump()).exitCode == 0);
        }
    }
}

TEST_CASE("dhcp renews the lease before it runs out", "[dhcp][renew]") {
    DhcpEnv env("tbr-dh2");
    ScratchNetns ns;
    json conf = bridgeConf(env, "tbr-dh2");
    const auto vars = cniEnv(env, ns, "dh2");
    auto add = runPlugin(env.bridgePlugin(), "ADD", vars, conf.dump());
    INFO(add.out << add.err << env.daemonLog());
    REQUIRE(add.exitCode == 0);
    const std::string mac = macIn(ns);
    auto first = env.serverLeases();
    REQUIRE(first.count(mac) == 1);
    CHECK(first[mac].remainingSec <= 10);
    // Two lease lifetimes (10 s each) later the server still holds the lease with time left:
    // only renewals (at T1 = 5 s) can have extended it.
    std::this_thread::sleep_for(std::chrono::seconds(21));
    auto later = env.serverLeases();
    INFO(env.daemonLog());
    REQUIRE(later.count(mac) == 1);
    CHECK(later[mac].ip == first[mac].ip);
    CHECK(later[mac].remainingSec > 0);
    CHECK(env.daemonLog().find("renewed " + later[mac].ip) != std::string::npos);
    conf["prevResult"] = *add.json;
    CHECK(runPlugin(env.bridgePlugin(), "CHECK", vars, conf.dump()).exitCode == 0);
    CHECK(runPlugin(env.bridgePlugin(), "DEL", vars, conf.dump()).exitCode == 0);
    // After DEL the daemon holds nothing: CHECK fails naming the attachment.
    auto check = runPlugin(env.dhcpPlugin(), "CHECK", vars, conf.dump());
    CHECK(check.exitCode == 1);
    REQUIRE(check.json);
    CHECK((*check.json)["msg"].get<std::string>().find("no lease held for dh2/dnet/eth0") !=
          std::string::npos);
}

TEST_CASE("two containers get two leases", "[dhcp]") {
    DhcpEnv env("tbr-dh3");
    ScratchNetns a, b;
    json conf = bridgeConf(env, "tbr-dh3");
    auto va = cniEnv(env, a, "dha"), vb = cniEnv(env, b, "dhb");
    std::optional<PluginRun> ra, rb;
    std::thread t([&] { ra = runPlugin(env.bridgePlugin(), "ADD", va, conf.dump()); });
    rb = runPlugin(env.bridgePlugin(), "ADD", vb, conf.dump());
    t.join();
    INFO(ra->out << rb->out << env.daemonLog());
    REQUIRE(ra->exitCode == 0);
    REQUIRE(rb->exitCode == 0);
    CHECK(addressesIn(a) != addressesIn(b));
    auto leases = env.serverLeases();
    CHECK(leases.count(macIn(a)) == 1);
    CHECK(leases.count(macIn(b)) == 1);
    CHECK(runPlugin(env.bridgePlugin(), "DEL", va, conf.dump()).exitCode == 0);
    CHECK(runPlugin(env.bridgePlugin(), "DEL", vb, conf.dump()).exitCode == 0);
    CHECK(hostVeths() == 0);
}

TEST_CASE("dhcp without a daemon: a clear error, nothing left behind", "[dhcp][errors]") {
    DhcpEnv env("tbr-dh4", false, /*startDaemon=*/false);
    ScratchNetns ns;
    json conf = bridgeConf(env, "tbr-dh4");
    const auto vars = cniEnv(env, ns, "dh4");
    auto add = runPlugin(env.bridgePlugin(), "ADD", vars, conf.dump());
    INFO(add.out << add.err);
    CHECK(add.exitCode == 1);
    REQUIRE(add.json);
    CHECK((*add.json)["code"] == 11);
    const std::string msg = (*add.json)["msg"];
    CHECK(msg.find("DHCP daemon not running") != std::string::npos);
    CHECK(msg.find(env.socketPath()) != std::string::npos);
    CHECK(hostVeths() == 0);
    CHECK(ns.exec({"ip", "-j", "link", "show"}).json().size() == 1); // lo only
    // DEL: no daemon means no lease to release.
    CHECK(runPlugin(env.bridgePlugin(), "DEL", vars, conf.dump()).exitCode == 0);
    auto status = runPlugin(
        env.dhcpPlugin(), "STATUS", {{"CNI_PATH", env.cniPath()}},
        json{{"cniVersion", "1.1.0"}, {"name", "dnet"}, {"type", "dhcp"}, {"ipam", conf["ipam"]}}
            .dump());
    CHECK(status.exitCode == 1);
    REQUIRE(status.json);
    CHECK((*status.json)["code"] == 50);
}

TEST_CASE("dhcp rejects a bad config with code 7 before anything happens", "[dhcp][errors]") {
    DhcpEnv env("tbr-dh5");
    ScratchNetns ns;
    const auto vars = cniEnv(env, ns, "dh5");
    struct Case {
        json ipam;
        std::string needle;
    };
    const std::vector<Case> cases = {
        {{{"request", {{{"option", "no-such-option"}}}}}, "ipam.request[0]"},
        {{{"provide", {{{"option", "host-name"}, {"value", std::string(300, 'x')}}}}},
         "ipam.provide[0]"},
        {{{"daemonSocketPath", "relative/dhcp.sock"}}, "ipam.daemonSocketPath"},
        {{{"timeout", 0}}, "ipam.timeout"},
    };
    for (const auto& c : cases) {
        json conf = bridgeConf(env, "tbr-dh5", c.ipam);
        for (const auto& plugin : {env.bridgePlugin(), env.dhcpPlugin()}) {
            auto add = runPlugin(plugin, "ADD", vars, conf.dump());
            INFO(plugin << " " << conf.dump() << " -> " << add.out);
            CHECK(add.exitCode == 1);
            REQUIRE(add.json);
            CHECK((*add.json)["code"] == 7);
            CHECK((*add.json)["msg"].get<std::string>().find(c.needle) != std::string::npos);
        }
    }
    CHECK(hostVeths() == 0);
    CHECK(env.serverLeases().empty());
    CHECK(env.daemonLog().find("leased") == std::string::npos);
}

TEST_CASE("dhcp waits for an interface that appears after the request", "[dhcp]") {
    DhcpEnv env("tbr-dh6");
    ScratchNetns ns;
    json conf = {{"cniVersion", "1.1.0"},
                 {"name", "dnet"},
                 {"type", "dhcp"},
                 {"ipam", {{"type", "dhcp"}, {"daemonSocketPath", env.socketPath()}}}};
    conf["ipam"]["timeout"] = 8;
    const auto vars = cniEnv(env, ns, "dh6");
    std::optional<PluginRun> add;
    std::thread t([&] { add = runPlugin(env.dhcpPlugin(), "ADD", vars, conf.dump()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    // eth0 arrives a second later and down: the daemon sets it up itself.
    CHECK(execHere({"ip", "link", "add", "vdh6", "type", "veth", "peer", "name", "eth0", "netns",
                    ns.path()})
              .exitCode == 0);
    CHECK(execHere({"ip", "link", "set", "vdh6", "master", "tbr-dh6", "up"}).exitCode == 0);
    t.join();
    INFO(add->out << add->err << env.daemonLog());
    REQUIRE(add->exitCode == 0);
    REQUIRE(add->json);
    const std::string cidr = (*add->json)["ips"][0]["address"];
    CHECK(cidr.starts_with("10.40.0.1"));
    CHECK((*add->json)["routes"] == json::parse(R"([{"dst":"0.0.0.0/0","gw":"10.40.0.1"}])"));
    const std::string mac = macIn(ns);
    auto leases = env.serverLeases();
    REQUIRE(leases.count(mac) == 1);
    CHECK(leases[mac].ip + "/24" == cidr);
    CHECK(runPlugin(env.dhcpPlugin(), "DEL", vars, conf.dump()).exitCode == 0);
    leases = env.serverLeases();
    CHECK(leases[mac].remainingSec == -1);
    execHere({"ip", "link", "del", "vdh6"});

    // An interface that never appears: code 11 naming it, after the configured timeout.
    conf["ipam"]["timeout"] = 1;
    auto never = runPlugin(env.dhcpPlugin(), "ADD", cniEnv(env, ns, "dh6b"), conf.dump());
    CHECK(never.exitCode == 1);
    REQUIRE(never.json);
    CHECK((*never.json)["code"] == 11);
    CHECK((*never.json)["msg"].get<std::string>().find("interface eth0 not found") !=
          std::string::npos);
}

TEST_CASE("dhcp: a lease the server stops renewing is lost", "[dhcp][renew]") {
    DhcpEnv env("tbr-dh7");
    ScratchNetns ns;
    json conf = bridgeConf(env, "tbr-dh7");
    const auto vars = cniEnv(env, ns, "dh7");
    auto add = runPlugin(env.bridgePlugin(), "ADD", vars, conf.dump());
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    env.stopServer();
    std::this_thread::sleep_for(std::chrono::seconds(12)); // past the 10 s lease
    INFO(env.daemonLog());
    CHECK(env.daemonLog().find("expired") != std::string::npos);
    conf["prevResult"] = *add.json;
    auto check = runPlugin(env.dhcpPlugin(), "CHECK", vars, conf.dump());
    CHECK(check.exitCode == 1);
    REQUIRE(check.json);
    CHECK((*check.json)["msg"].get<std::string>().find("was lost") != std::string::npos);
    CHECK(runPlugin(env.bridgePlugin(), "DEL", vars, conf.dump()).exitCode == 0);
    CHECK(hostVeths() == 0);
}
