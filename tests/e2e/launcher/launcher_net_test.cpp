// Containers on CNI networks: the container reaches its gateway and, through the bridge's NAT, a
// "remote" namespace that has no route back to the container subnet; nothing is left after exit.
// Uses a conflist in the test's NETCONFPATH (IPAM data in the temp dir) and the plugins built in
// build/bin (a missing plugin fails the test).  The remote peer is a netns fixture.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "launcher_env.hpp"
#include "libnet/netns.hpp"
#include "netns-fixtures/scoped_fixture.hpp"

using tether::test::eventually;
using tether::test::execHere;
using tether::test::LauncherEnv;
namespace fs = std::filesystem;

namespace {

std::string missingPlugins(std::initializer_list<const char*> names) {
    std::string missing;
    for (const char* p : names)
        if (!fs::exists(tether::test::binDir() + "/" + p))
            missing += std::string(missing.empty() ? "" : ", ") + p;
    return missing;
}

/// Writes NETCONFPATH/<name>.conflist: bridge (gateway, ipMasq) + host-local, optionally portmap.
std::string writeNetwork(const LauncherEnv& env, const std::string& name, const std::string& subnet,
                         bool portmap, bool ipMasq = true) {
    std::random_device rd;
    std::string bridge = "tb" + std::to_string(rd() % 100000);
    fs::create_directories(env.scratch("net.d"));
    nlohmann::json plugins = nlohmann::json::array({{{"type", "bridge"},
                                                     {"bridge", bridge},
                                                     {"isGateway", true},
                                                     {"ipMasq", ipMasq},
                                                     {"ipam",
                                                      {{"type", "host-local"},
                                                       {"dataDir", env.scratch("ipam")},
                                                       {"ranges", {{{{"subnet", subnet}}}}},
                                                       {"routes", {{{"dst", "0.0.0.0/0"}}}}}}}});
    if (portmap)
        plugins.push_back({{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}});
    nlohmann::json list = {{"cniVersion", "1.0.0"}, {"name", name}, {"plugins", plugins}};
    std::ofstream(env.scratch("net.d") + "/" + name + ".conflist") << list.dump(2);
    return bridge;
}

size_t leases(const LauncherEnv& env, const std::string& network) {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(env.scratch("ipam") + "/" + network, ec))
        if (auto f = e.path().filename().string();
            !f.empty() && std::isxdigit(static_cast<unsigned char>(f[0])) &&
            (f.find('.') != std::string::npos || f.find(':') != std::string::npos) &&
            !f.starts_with("last_"))
            ++n; // one file per leased address, named by the address
    return n;
}

} // namespace

TEST_CASE("net: container gets eth0, reaches its gateway, nothing is left after exit",
          "[launcher][net]") {
    REQUIRE(missingPlugins({"bridge", "host-local"}).empty());
    LauncherEnv env;
    std::string bridge = writeNetwork(env, "gnet", "10.97.0.0/24", false, false);
    auto r = env.tether({"run", "--net", "gnet", "--", "sh", "-c",
                         "ip -o -4 addr show eth0 | grep -c 10.97.0.; "
                         "ping -c1 -W2 10.97.0.1 >/dev/null && echo gateway-ok"});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    CHECK(r.out == "1\ngateway-ok\n");
    CHECK(env.leftovers().empty());
    CHECK(leases(env, "gnet") == 0);
    CHECK(eventually([&] {
        return execHere({"sh", "-c", "ip -o link show master " + bridge + " | wc -l"}).out == "0\n";
    }));
    execHere({"ip", "link", "del", bridge});
}

TEST_CASE("net: two networks become eth0 and eth1", "[launcher][net]") {
    REQUIRE(missingPlugins({"bridge", "host-local"}).empty());
    LauncherEnv env;
    std::string b1 = writeNetwork(env, "n1", "10.96.1.0/24", false, false);
    std::string b2 = writeNetwork(env, "n2", "10.96.2.0/24", false, false);
    auto r = env.tether(
        {"run", "--net", "n1", "--net", "n2", "--", "sh", "-c",
         "ip -o -4 addr show eth0 | grep -c 10.96.1.; ip -o -4 addr show eth1 | grep -c 10.96.2."});
    INFO(r.err);
    CHECK(r.out == "1\n1\n");
    CHECK(env.leftovers().empty());
    CHECK(leases(env, "n1") + leases(env, "n2") == 0);
    execHere({"ip", "link", "del", b1});
    execHere({"ip", "link", "del", b2});
}

TEST_CASE("net: container reaches a remote netns through NAT", "[launcher][net]") {
    REQUIRE(missingPlugins({"bridge", "host-local"}).empty());
    LauncherEnv env;
    writeNetwork(env, "tnet", "10.99.0.0/24", false);
    // A fixture: "host" (a router) runs the launcher, its bridge and NAT; "remote" is reachable
    // from it only as 192.0.2.2 and has no route to 10.99.0.0/24, so a reply can only come back
    // if the container's traffic was NATed.
    auto topo = tether::fixture::Topology::parseText(R"({
        "hosts": [{"name": "host", "router": true}, {"name": "remote"}],
        "links": [{"a": {"host": "host", "addresses": ["192.0.2.1/24"]},
                   "b": {"host": "remote", "addresses": ["192.0.2.2/24"]}}]})");
    REQUIRE(topo);
    tether::fixture::ScopedFixture world(
        *topo, {.netnsDir = env.scratch("fixture-netns"), .stateDir = env.scratch("fixtures")});
    tether::net::NetnsGuard inHost(**world.fixture().netns("host"));
    REQUIRE(inHost.ok());

    auto r = env.tether({"run", "--net", "tnet", "--", "sh", "-c",
                         "ping -c1 -W2 192.0.2.2 >/dev/null && echo remote-ok"});
    INFO(r.err);
    CHECK(r.out == "remote-ok\n");
    CHECK(env.leftovers().empty());
    CHECK(leases(env, "tnet") == 0);
}

TEST_CASE("net: -p reaches the container through portmap", "[launcher][net]") {
    REQUIRE(missingPlugins({"bridge", "host-local", "portmap"}).empty());
    LauncherEnv env;
    std::string bridge = writeNetwork(env, "pnet", "10.98.0.0/24", true);
    auto d = env.tether({"run", "-d", "--name", "web", "--net", "pnet", "-p", "18080:80", "--",
                         "sh", "-c", "while true; do echo hello | nc -l -p 80; done"});
    INFO(d.err);
    REQUIRE(d.exitCode == 0);
    CHECK(eventually([&] {
        return execHere({"sh", "-c", "busybox nc -w1 127.0.0.1 18080 </dev/null"})
                   .out.find("hello") != std::string::npos;
    }));
    REQUIRE(env.tether({"rm", "-f", "web"}).exitCode == 0);
    CHECK(env.leftovers().empty());
    CHECK(leases(env, "pnet") == 0);
    execHere({"ip", "link", "del", bridge});
}

TEST_CASE("net: an unknown network fails the run and leaves nothing behind", "[launcher][net]") {
    LauncherEnv env;
    auto r = env.tether({"run", "--net", "no-such-network", "--", "true"});
    CHECK(r.exitCode == 125);
    CHECK(r.err.find("no-such-network") != std::string::npos);
    CHECK(env.leftovers().empty());
}
