// The conflists users actually have, run unchanged (only the plugin directory is ours): podman's
// generated network, the k3s shape (bridge + host-local as flannel delegates them, portmap,
// bandwidth) and containerd's default (bridge + portmap, plus its separate loopback network) —
// each through `tether net` and through the plugins called in libcni's order, with traffic that
// shows every plugin did its job and nothing left after DEL.
#include <catch2/catch.hpp>

#include "tests/e2e/bandwidth/tcp_rate.hpp"
#include "tests/e2e/conflists/conflist_env.hpp"
#include "tests/e2e/firewall/fw_probe.hpp"
#include "tests/e2e/nat/tcp_probe.hpp"

using namespace tether;
using nlohmann::json;
using test::kHostAddr;
using test::kRemoteAddr;

namespace {

struct Container {
    std::string id;
    json caps = json::object();
    test::ScratchNetns ns;
    json result;
    std::string addr;
};

void add(test::Driver& d, Container& c) {
    std::string error;
    c.result = d.add(c.id, c.ns, c.caps, error);
    INFO(d.name() << " ADD " << c.id << ": " << error);
    REQUIRE(!c.result.is_null());
    c.addr = test::resultAddress(c.result);
    REQUIRE(!c.addr.empty());
}

void del(test::Driver& d, Container& c) {
    std::string error = d.del(c.id, c.ns, c.caps, c.result);
    INFO(d.name() << " DEL " << c.id);
    CHECK(error == "");
    // DEL is idempotent: a second one (a runtime retrying) succeeds and changes nothing.
    CHECK(d.del(c.id, c.ns, c.caps, c.result) == "");
}

json mapping(int hostPort, int containerPort) {
    return {{"portMappings", json::array({{{"hostPort", hostPort},
                                           {"containerPort", containerPort},
                                           {"protocol", "tcp"}}})}};
}

bool pings(const test::ScratchNetns& ns, const std::string& ip) {
    return ns.exec({"ping", "-c1", "-W2", ip}).exitCode == 0;
}

// A TCP connection from `from` to ip:port is accepted by a listener on `listenPort` in `to`;
// returns the peer address the listener saw ("" when nothing arrived).
std::string connectSeenAs(const net::Netns& from, const net::Netns& to, const std::string& ip,
                          int port, int listenPort) {
    auto peer = test::acceptOnce(to, listenPort, 2500);
    bool connected = test::connectFrom(from, ip, port, 2000);
    std::string seen = peer.get();
    return connected ? seen : "";
}

std::string inContainer(const test::ScratchNetns& ns, const std::vector<std::string>& argv) {
    return ns.exec(argv).out;
}

// What every one of the three conflists gives a container: its address on eth0, its gateway
// answering, the other container reachable, the published port reached from the remote host.
void commonTraffic(const test::ConflistWorld& world, Container& server, Container& client,
                   const std::string& gateway) {
    CHECK(inContainer(server.ns, {"ip", "-4", "-o", "addr", "show", "eth0"})
              .find("inet " + server.addr + "/") != std::string::npos);
    CHECK(pings(client.ns, gateway));
    CHECK(test::reaches(client.ns.netns(), server.ns.netns(), server.addr, 7000));
    CHECK(connectSeenAs(world.remote(), server.ns.netns(), kHostAddr, 8080, 80) == kRemoteAddr);
}

void checkBoth(test::Driver& d, Container& a, Container& b) {
    CHECK(d.check(a.id, a.ns, a.caps, a.result) == "");
    CHECK(d.check(b.id, b.ns, b.caps, b.result) == "");
}

void podman(test::Driver& d) {
    test::ConflistWorld world;
    Container srv{.id = "podsrv", .caps = mapping(8080, 80)}, cli{.id = "podcli"};
    add(d, srv);
    add(d, cli);
    commonTraffic(world, srv, cli, "10.89.7.1");
    // bridge ipMasq: the remote host sees the container's connection from the host's address.
    CHECK(connectSeenAs(cli.ns.netns(), world.remote(), kRemoteAddr, 9000, 9000) == kHostAddr);
    checkBoth(d, srv, cli);
    // firewall: once the host's FORWARD policy is DROP (Docker's iptables state), a container
    // attached after that still reaches the remote host (new inbound connections to a published
    // port it does not open, like the reference's CNI-FORWARD rules).
    test::dropForward();
    Container late{.id = "podlate"};
    add(d, late);
    CHECK(connectSeenAs(late.ns.netns(), world.remote(), kRemoteAddr, 9000, 9000) == kHostAddr);
    del(d, late);
    CHECK(connectSeenAs(late.ns.netns(), world.remote(), kRemoteAddr, 9000, 9000) == "");
    // tuning (the key an admin adds to podman's bare tuning entry): visible in the container.
    CHECK(inContainer(srv.ns, {"cat", "/proc/sys/net/ipv4/conf/eth0/arp_notify"}) == "1\n");
    CHECK(inContainer(cli.ns, {"cat", "/proc/sys/net/ipv4/conf/eth0/arp_notify"}) == "1\n");
    CHECK(test::leftovers({"testnet/"}) != ""); // firewall and NAT elements exist while attached
    del(d, srv);
    del(d, cli);
    CHECK(test::leftovers("testnet", "cni-podman1") == "");
    CHECK(connectSeenAs(world.remote(), srv.ns.netns(), kHostAddr, 8080, 80) == "");
}

json podmanList() {
    json l = test::loadFixture("87-podman-testnet.conflist");
    l["plugins"][3]["sysctl"] = {{"net.ipv4.conf.eth0.arp_notify", "1"}};
    return l;
}

void k3s(test::Driver& d) {
    test::ConflistWorld world;
    json shaped = mapping(8080, 80);
    shaped["bandwidth"] = {{"ingressRate", 16000000},
                           {"ingressBurst", 400000},
                           {"egressRate", 24000000},
                           {"egressBurst", 400000}};
    Container srv{.id = "k3ssrv", .caps = shaped}, cli{.id = "k3scli"};
    add(d, srv);
    add(d, cli);
    commonTraffic(world, srv, cli, "10.42.0.1");
    // flannel's delegate: MTU 1450, default route plus the cluster route, no masquerade.
    CHECK(inContainer(srv.ns, {"ip", "-o", "link", "show", "eth0"}).find(" mtu 1450 ") !=
          std::string::npos);
    std::string routes = inContainer(srv.ns, {"ip", "-4", "route"});
    CHECK(routes.find("default via 10.42.0.1") != std::string::npos);
    CHECK(routes.find("10.42.0.0/16 via 10.42.0.1") != std::string::npos);
    CHECK(test::leftovers({"cbr0/"}).find("masq") == std::string::npos);
    // hairpinMode: the server reaches its own published port through the host.
    CHECK(connectSeenAs(srv.ns.netns(), srv.ns.netns(), kHostAddr, 8080, 80) != "");
    // bandwidth: into the server 16 Mbit/s, out of it 24 Mbit/s, each within 10%.
    double in = test::measureTcpRate(cli.ns, srv.ns, srv.addr, 1.8);
    double out = test::measureTcpRate(srv.ns, cli.ns, cli.addr, 1.8);
    WARN(d.name() << ": ingress " << in / 1e6 << " Mbit/s, egress " << out / 1e6 << " Mbit/s");
    CHECK(in == Approx(16e6).epsilon(0.10));
    CHECK(out == Approx(24e6).epsilon(0.10));
    checkBoth(d, srv, cli);
    del(d, srv);
    del(d, cli);
    CHECK(test::leftovers("cbr0", "cni0") == "");
}

void containerd(test::Driver& d, test::Driver& lo) {
    test::ConflistWorld world;
    Container srv{.id = "ctrsrv", .caps = mapping(8080, 80)}, cli{.id = "ctrcli"};
    // containerd's CRI brings up the pod's lo with its own loopback network first.
    for (auto* c : {&srv, &cli}) {
        REQUIRE(c->ns.exec({"ip", "link", "set", "lo", "down"}).exitCode == 0);
        std::string error;
        json r = lo.add(c->id, c->ns, json::object(), error, "lo");
        INFO(error);
        REQUIRE(!r.is_null());
        CHECK(inContainer(c->ns, {"ip", "-o", "link", "show", "lo"}).find(",UP") !=
              std::string::npos);
        CHECK(pings(c->ns, "127.0.0.1"));
    }
    add(d, srv);
    add(d, cli);
    commonTraffic(world, srv, cli, "10.88.0.1");
    // the default's second range: an IPv6 address, and the bridge in promiscuous mode.
    std::string v6 = test::resultAddress(srv.result, "6");
    CHECK(v6.starts_with("2001:4860:4860::"));
    CHECK(inContainer(srv.ns, {"ip", "-6", "-o", "addr", "show", "eth0"}).find(v6 + "/64") !=
          std::string::npos);
    CHECK(test::execHere({"ip", "-o", "link", "show", "cni0"}).out.find("PROMISC") !=
          std::string::npos);
    CHECK(connectSeenAs(cli.ns.netns(), world.remote(), kRemoteAddr, 9000, 9000) == kHostAddr);
    checkBoth(d, srv, cli);
    del(d, srv);
    del(d, cli);
    for (auto* c : {&srv, &cli})
        CHECK(lo.del(c->id, c->ns, json::object(), nullptr, "lo") == "");
    CHECK(test::leftovers("containerd-net", "cni0") == "");
}

} // namespace

TEST_CASE("podman's generated conflist through tether net", "[conflists][podman]") {
    auto d = test::cliDriver(podmanList());
    podman(*d);
}

TEST_CASE("podman's generated conflist in libcni's call order", "[conflists][podman]") {
    auto d = test::libcniDriver(podmanList());
    podman(*d);
}

TEST_CASE("the k3s shape through tether net", "[conflists][k3s]") {
    auto d = test::cliDriver(test::loadFixture("10-k3s-flannel-delegated.conflist"));
    k3s(*d);
}

TEST_CASE("the k3s shape in libcni's call order", "[conflists][k3s]") {
    auto d = test::libcniDriver(test::loadFixture("10-k3s-flannel-delegated.conflist"));
    k3s(*d);
}

TEST_CASE("containerd's default through tether net", "[conflists][containerd]") {
    auto d = test::cliDriver(test::loadFixture("10-containerd-net.conflist"));
    auto lo = test::cliDriver(test::loadFixture("99-loopback.conflist"));
    containerd(*d, *lo);
}

TEST_CASE("containerd's default in libcni's call order", "[conflists][containerd]") {
    auto d = test::libcniDriver(test::loadFixture("10-containerd-net.conflist"));
    auto lo = test::libcniDriver(test::loadFixture("99-loopback.conflist"));
    containerd(*d, *lo);
}
