// A Kubernetes-like cluster network on one machine (netns-fixtures/examples/cluster.json): pods on
// different nodes reach each other by pod IP over the VXLAN overlay (and see each other's real
// pod IPs), a pod reaches a host outside the cluster and is seen there with its node's address,
// and teardown leaves no namespace and no link behind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "netns-fixtures/fixture.hpp"
#include "tests/support/run_dir.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;

namespace {

std::string examplePath() {
    return std::string(TETHER_SOURCE_DIR) + "/netns-fixtures/examples/cluster.json";
}

fixture::Topology loadCluster() {
    test::isolateRunDir();
    ::setenv("CNI_PATH", test::binDir().c_str(), 1);
    auto t = fixture::Topology::load(examplePath());
    INFO((t ? "" : t.error().msg));
    REQUIRE(t);
    return *t;
}

/// Listens on `ip`:`port` inside `server`, connects from `client` and returns the source
/// address the listener saw ("" when the connection did not arrive).
std::string peerSeen(const fixture::Fixture& fx, const std::string& server,
                     const std::string& client, const std::string& ip, uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
    auto listener = fx.runIn(server, [&] {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(fd, 4) != 0) {
            ::close(fd);
            return -1;
        }
        return fd;
    });
    REQUIRE(listener);
    REQUIRE(*listener >= 0);
    auto conn = fx.runIn(client, [&] {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        timeval tv{.tv_sec = 3, .tv_usec = 0};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd);
            return -1;
        }
        return fd;
    });
    std::string seen;
    if (conn && *conn >= 0) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        int accepted = ::accept4(*listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (accepted >= 0) {
            char text[INET_ADDRSTRLEN] = {};
            inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
            seen = text;
            ::close(accepted);
        }
        ::close(*conn);
    }
    ::close(*listener);
    return seen;
}

uint64_t txPackets(const fixture::Fixture& fx, const std::string& node, const std::string& dev) {
    auto r = fx.run(node, {"ip", "-j", "-s", "link", "show", dev});
    REQUIRE(r);
    REQUIRE(r->exitCode == 0);
    return nlohmann::json::parse(r->out).at(0).at("stats64").at("tx").at("packets").get<uint64_t>();
}

std::string out(const fixture::Fixture& fx, const std::string& node,
                const std::vector<std::string>& argv) {
    auto r = fx.run(node, argv);
    REQUIRE(r);
    return r->out;
}

/// Interface names of the test's own namespace (/proc/net/dev is per network namespace).
std::string linksHere() {
    std::ifstream in("/proc/net/dev");
    std::string line, names;
    while (std::getline(in, line))
        if (auto colon = line.find(':'); colon != std::string::npos)
            names += line.substr(line.find_first_not_of(' '), colon) + " ";
    return names;
}

/// Pins under /run/netns whose name starts with `prefix`.
std::vector<std::string> pinsOf(const std::string& prefix) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec))
        if (e.path().filename().string().starts_with(prefix))
            out.push_back(e.path().filename().string());
    return out;
}

} // namespace

TEST_CASE("cluster example: pods across nodes, the remote host, teardown", "[cluster]") {
    auto topo = loadCluster();
    std::string linksBefore = linksHere();
    auto fx = fixture::Fixture::up(topo);
    INFO((fx ? "" : fx.error().msg + " " + fx.error().details));
    REQUIRE(fx);
    std::string name = fx->name();

    auto pod = [&](int i) {
        auto a = fx->address("pod" + std::to_string(i), "eth0");
        REQUIRE(a);
        return *a;
    };
    for (int i = 1; i <= 3; ++i) {
        INFO("pod" << i);
        CHECK(net::IpPrefix::parse("10.244." + std::to_string(i) + ".0/24")->contains(pod(i)));
        // flannel's delegate: default route and the cluster route via the node's cni0 gateway.
        std::string gw = "via 10.244." + std::to_string(i) + ".1";
        CHECK(out(*fx, "pod" + std::to_string(i), {"ip", "route"}).find("default " + gw) !=
              std::string::npos);
        CHECK(out(*fx, "pod" + std::to_string(i), {"ip", "route"}).find("10.244.0.0/16 " + gw) !=
              std::string::npos);
    }

    SECTION("a pod on node1 reaches a pod on node3 by pod IP, over the overlay, unmasqueraded") {
        uint64_t before = txPackets(*fx, "node1", "flannel.1");
        auto ping = fx->run("pod1", {"ping", "-c2", "-W2", pod(3).str()});
        REQUIRE(ping);
        INFO(ping->out << ping->err);
        CHECK(ping->exitCode == 0);
        CHECK(txPackets(*fx, "node1", "flannel.1") >= before + 2); // encapsulated by node1
        CHECK(peerSeen(*fx, "pod3", "pod1", pod(3).str(), 8080) == pod(1).str());
        CHECK(peerSeen(*fx, "pod1", "pod2", pod(1).str(), 8081) == pod(2).str());
        // The overlay state each node holds for the others (as flannel's vxlan backend).
        auto fdb = out(*fx, "node1", {"bridge", "fdb", "show", "dev", "flannel.1"});
        CHECK(fdb.find("dst 192.168.50.2 self permanent") != std::string::npos);
        CHECK(fdb.find("dst 192.168.50.3 self permanent") != std::string::npos);
        auto neigh = out(*fx, "node1", {"ip", "neigh", "show", "dev", "flannel.1"});
        CHECK(neigh.find("10.244.3.0 lladdr 0e:fe:0a:f4:03:00 PERMANENT") != std::string::npos);
        auto link = out(*fx, "node1", {"ip", "-d", "link", "show", "flannel.1"});
        CHECK(link.find("vxlan id 1 local 192.168.50.1 dev eth0") != std::string::npos);
        CHECK(link.find("nolearning") != std::string::npos);
    }

    SECTION("a pod reaches the remote host and is seen there with its node's address") {
        // remote has no route to 10.244.0.0/16: the reply only comes back through the masquerade.
        CHECK(out(*fx, "remote", {"ip", "route"}).find("10.244") == std::string::npos);
        CHECK(peerSeen(*fx, "remote", "pod2", "192.168.50.100", 9000) == "192.168.50.2");
        CHECK(peerSeen(*fx, "remote", "pod3", "192.168.50.100", 9001) == "192.168.50.3");
    }

    CHECK(pinsOf(name + "-").size() == 8); // 3 nodes, remote, the underlay switch, 3 pods
    REQUIRE(fx->down());
    CHECK(pinsOf(name).empty());
    CHECK_FALSE(std::filesystem::exists("/run/tether/fixtures/" + name));
    CHECK(linksHere() == linksBefore);
}

TEST_CASE("overlay validation names the element", "[cluster]") {
    auto doc = nlohmann::json::parse(R"({
      "hosts": [{"name": "a", "router": true}, {"name": "b", "router": true}],
      "switches": [{"name": "sw"}],
      "links": [{"a": {"host": "a", "addresses": ["192.168.9.1/24"]}, "b": {"switch": "sw"}},
                {"a": {"host": "b", "addresses": ["192.168.9.2/24"]}, "b": {"switch": "sw"}}],
      "overlays": [{"name": "o", "clusterCidr": "10.244.0.0/16",
                    "nodes": [{"host": "a", "subnet": "10.244.1.0/24"},
                              {"host": "b", "subnet": "10.244.2.0/24"}]}]})");
    REQUIRE(fixture::Topology::parse(doc));
    REQUIRE(fixture::Topology::parse(doc)->overlays.at(0).device == "flannel.1");
    auto err = [&](auto mutate) {
        auto d = doc;
        mutate(d["overlays"][0]);
        auto t = fixture::Topology::parse(d);
        REQUIRE_FALSE(t);
        CHECK(t.error().code == Code::InvalidConfig);
        return t.error().msg;
    };
    CHECK(err([](auto& o) { o["nodes"][1]["subnet"] = "10.245.2.0/24"; }) ==
          "overlays[0].nodes[1].subnet: 10.245.2.0/24 is outside clusterCidr 10.244.0.0/16 (or "
          "longer than /30)");
    CHECK(err([](auto& o) { o["nodes"][1]["subnet"] = "10.244.1.128/25"; }) ==
          "overlays[0].nodes[1].subnet: 10.244.1.128/25 overlaps 10.244.1.0/24 of "
          "overlays[0].nodes[0]");
    CHECK(err([](auto& o) { o["nodes"][0]["dev"] = "eth7"; }) ==
          "overlays[0].nodes[0].dev: host a has no interface \"eth7\"");
    CHECK(err([](auto& o) { o["vni"] = 0; }) == "overlays[0].vni: 0 outside 1..16777215");
    CHECK(err([](auto& o) { o["nodes"].erase(1); }) ==
          "overlays[0].nodes: an overlay needs at least two nodes");
    CHECK(err([](auto& o) { o["learning"] = true; }) == "overlays[0]: unknown key \"learning\"");
    CHECK(err([](auto& o) { o["nodes"][1]["host"] = "a"; }) ==
          "overlays[0].nodes[1].host: host a already in overlays[0].nodes[0]");
    auto d = doc;
    d["hosts"][1]["router"] = false;
    auto t = fixture::Topology::parse(d);
    REQUIRE_FALSE(t);
    CHECK(t.error().msg == "overlays[0].nodes[1].host: host b needs \"router\": true");
}
