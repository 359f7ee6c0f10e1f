// build/bin/bandwidth driven as a runtime would: the shaped rate measured with TCP in both
// directions, the kernel state compared with the reference /usr/lib/cni/bandwidth, DEL and GC.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "libnet/link.hpp"
#include "libnet/link_extra.hpp"
#include "libnet/tc.hpp"
#include "tests/e2e/bandwidth/tcp_rate.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using nlohmann::json;

namespace {

std::string ours() {
    return test::binDir() + "/bandwidth";
}
std::string reference() {
    return access("/usr/lib/cni/bandwidth", X_OK) == 0 ? "/usr/lib/cni/bandwidth" : "";
}

void sh(const std::vector<std::string>& argv) {
    auto r = test::execHere(argv);
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
}

/// A container on bridge br0 of this (scratch host) netns: eth0 = 10.9.0.<n>/24, host end vbw<n>.
struct Container {
    test::ScratchNetns ns;
    std::string host, addr;
    explicit Container(int n)
        : host("vbw" + std::to_string(n)), addr("10.9.0." + std::to_string(n)) {
        sh({"ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns.path()});
        sh({"ip", "link", "set", host, "master", "br0", "up"});
        REQUIRE(ns.exec({"ip", "addr", "add", addr + "/24", "dev", "eth0"}).exitCode == 0);
        REQUIRE(ns.exec({"ip", "link", "set", "eth0", "up"}).exitCode == 0);
    }
    // The kernel destroys a netns (and so this veth) asynchronously: delete it now so the next
    // container can reuse the name.
    ~Container() {
        if (auto sock = net::NetlinkSocket::open()) (void)net::deleteLink(*sock, host);
    }
    Container(const Container&) = delete;
    Container& operator=(const Container&) = delete;
    [[nodiscard]] json prevResult() const {
        return {{"cniVersion", "1.0.0"},
                {"interfaces", {{{"name", host}}, {{"name", "eth0"}, {"sandbox", ns.path()}}}},
                {"ips", {{{"address", addr + "/24"}, {"interface", 1}}}}};
    }
};

void ensureBridge() {
    if (test::execHere({"ip", "link", "show", "br0"}).exitCode == 0) return;
    sh({"ip", "link", "add", "br0", "type", "bridge"});
    sh({"ip", "link", "set", "br0", "up"});
}

json conf(const std::string& version, const json& limits, const json& prev) {
    json c = {{"cniVersion", version}, {"name", "bwnet"}, {"type", "bandwidth"}};
    c.update(limits);
    if (!prev.is_null()) c["prevResult"] = prev;
    return c;
}

test::PluginRun run(const std::string& bin, const std::string& cmd, const std::string& cid,
                    const std::string& netns, const json& config) {
    return test::runPlugin(bin, cmd,
                           {{"CNI_CONTAINERID", cid},
                            {"CNI_NETNS", netns},
                            {"CNI_IFNAME", "eth0"},
                            {"CNI_PATH", test::binDir()}},
                           config.dump());
}

int linkIndex(const std::string& name) {
    auto host = net::NetlinkSocket::open();
    REQUIRE(host);
    auto l = net::findLink(*host, name);
    REQUIRE(l);
    return *l ? (*l)->index : 0;
}

std::optional<net::tc::TbfParams> rootTbf(const std::string& dev) {
    auto host = net::NetlinkSocket::open();
    REQUIRE(host);
    auto qs = net::tc::listQdiscs(*host, linkIndex(dev));
    REQUIRE(qs);
    for (const auto& q : *qs)
        if (q.parent == net::tc::kRootParent && q.kind == "tbf") return q.tbf;
    return std::nullopt;
}

const json kLimits = {{"ingressRate", 16000000},
                      {"ingressBurst", 400000},
                      {"egressRate", 24000000},
                      {"egressBurst", 400000}};

} // namespace

TEST_CASE("the shaped rate is the configured one in both directions; others are unaffected",
          "[bandwidth]") {
    ensureBridge();
    Container c1(1), c2(2), c3(3);
    auto add = run(ours(), "ADD", "c1", c1.ns.path(), conf("1.0.0", kLimits, c1.prevResult()));
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    // Into the container (ingress) 16 Mbit/s, out of it (egress) 24 Mbit/s, each within 10%.
    double in = test::measureShapedRate(c2.ns, c1.ns, c1.addr, 16e6);
    double out = test::measureShapedRate(c1.ns, c2.ns, c2.addr, 24e6);
    double free = test::measureTcpRate(c2.ns, c3.ns, c3.addr, 0.8, 0.1);
    WARN("ingress " << in / 1e6 << " Mbit/s, egress " << out / 1e6 << " Mbit/s, unshaped "
                    << free / 1e6 << " Mbit/s");
    CHECK(in == Approx(16e6).epsilon(0.10));
    CHECK(out == Approx(24e6).epsilon(0.10));
    CHECK(free > 10 * 24e6);
    CHECK(run(ours(), "CHECK", "c1", c1.ns.path(), conf("1.0.0", kLimits, *add.json)).exitCode ==
          0);
    auto del = run(ours(), "DEL", "c1", c1.ns.path(), conf("1.0.0", kLimits, *add.json));
    CHECK(del.exitCode == 0);
    CHECK(linkIndex(add.json->at("interfaces")[2].at("name")) == 0);
}

TEST_CASE("ADD matches the reference: result, IFB and TBF parameters", "[bandwidth]") {
    if (reference().empty()) {
        WARN("reference bandwidth plugin not installed: skipped");
        return;
    }
    ensureBridge();
    for (const char* v : {"0.3.1", "0.4.0", "1.0.0"}) {
        INFO("cniVersion " << v);
        Container c(10);
        json prev = c.prevResult();
        prev["cniVersion"] = v;
        auto check = [&](const std::string& bin) {
            auto r = run(bin, "ADD", "cx", c.ns.path(), conf(v, kLimits, prev));
            INFO(bin << ": " << r.out << r.err);
            REQUIRE(r.exitCode == 0);
            json itf = r.json->at("interfaces");
            REQUIRE(itf.size() == 3);
            std::string ifb = itf[2].at("name");
            CHECK(ifb.starts_with("bwp"));
            auto result = std::make_tuple(itf, rootTbf(c.host), rootTbf(ifb));
            REQUIRE(run(bin, "DEL", "cx", c.ns.path(), conf(v, kLimits, *r.json)).exitCode == 0);
            auto host = net::NetlinkSocket::open();
            (void)net::tc::deleteQdisc(*host, linkIndex(c.host), net::tc::kRootParent);
            (void)net::tc::deleteQdisc(*host, linkIndex(c.host), net::tc::kIngressParent);
            CHECK(linkIndex(ifb) == 0);
            return result;
        };
        auto [a, tbfA, ifbA] = check(ours());
        auto [b, tbfB, ifbB] = check(reference());
        REQUIRE(tbfA);
        CHECK(tbfA == tbfB);
        CHECK(ifbA == ifbB);
        CHECK(a[2].at("name") == b[2].at("name"));
        a[2].erase("mac"); // random per IFB
        b[2].erase("mac");
        CHECK(a == b);
    }
}

TEST_CASE("the IFB name is the reference's", "[bandwidth]") {
    // Known from the reference's unit tests: network "cni-plugin-bandwidth-test" + "dummy".
    ensureBridge();
    Container c(20);
    json cf = conf("1.0.0", kLimits, c.prevResult());
    cf["name"] = "cni-plugin-bandwidth-test";
    auto r = run(ours(), "ADD", "dummy", c.ns.path(), cf);
    REQUIRE(r.exitCode == 0);
    CHECK(r.json->at("interfaces")[2].at("name") == "bwpa8eda89404b7");
    CHECK(run(ours(), "DEL", "dummy", c.ns.path(), cf).exitCode == 0);
    CHECK(run(ours(), "DEL", "dummy", c.ns.path(), cf).exitCode == 0); // idempotent
}

TEST_CASE("runtimeConfig.bandwidth (also bandWidth) is used without top-level keys",
          "[bandwidth]") {
    ensureBridge();
    Container c(30);
    json cf = conf("1.0.0", json::object(), c.prevResult());
    cf["runtimeConfig"] = {{"bandWidth", {{"ingressRate", 8000000}, {"ingressBurst", 80000}}}};
    auto r = run(ours(), "ADD", "c30", c.ns.path(), cf);
    INFO(r.out);
    REQUIRE(r.exitCode == 0);
    CHECK(r.json->at("interfaces").size() == 2); // ingress only: no IFB
    auto tbf = rootTbf(c.host);
    REQUIRE(tbf);
    CHECK(tbf->rate == 1000000);
    // Top-level keys win over runtimeConfig, even when only one direction is given.
    Container d(31);
    json both = conf("1.0.0", {{"egressRate", 0}, {"egressBurst", 0}}, d.prevResult());
    both["runtimeConfig"] = cf["runtimeConfig"];
    auto r2 = run(ours(), "ADD", "c31", d.ns.path(), both);
    REQUIRE(r2.exitCode == 0);
    CHECK(!rootTbf(d.host));
}

TEST_CASE("bad limits are refused before anything is touched", "[bandwidth]") {
    ensureBridge();
    Container c(40);
    struct Case {
        json limits;
        unsigned code;
        std::string text;
    };
    std::vector<Case> cases = {
        {{{"ingressRate", 1000}}, 7, "if rate is set, burst must also be set"},
        {{{"egressBurst", 1000}}, 7, "if burst is set, rate must also be set"},
        {{{"egressRate", 1000}, {"egressBurst", 34359738368ull}},
         7,
         "burst cannot be more than 4GB"},
        {{{"ingressRate", -5}, {"ingressBurst", 100}}, 6, "ingressRate must be a non-negative"},
        {{{"ingressRate", "fast"}, {"ingressBurst", 100}}, 6, "ingressRate"},
    };
    for (const auto& k : cases) {
        auto r = run(ours(), "ADD", "c40", c.ns.path(), conf("1.0.0", k.limits, c.prevResult()));
        INFO(k.limits.dump() << " -> " << r.out);
        CHECK(r.exitCode == 1);
        REQUIRE(r.json);
        CHECK(r.json->at("code") == k.code);
        CHECK_THAT(r.json->at("msg").get<std::string>(), Catch::Contains(k.text));
    }
    auto old = run(ours(), "ADD", "c40", c.ns.path(), conf("0.2.0", kLimits, c.prevResult()));
    CHECK(old.json->at("code") == 1);
    auto noPrev = run(ours(), "ADD", "c40", c.ns.path(), conf("1.0.0", kLimits, nullptr));
    CHECK(noPrev.json->at("code") == 7);
    CHECK(!rootTbf(c.host));
    auto host = net::NetlinkSocket::open();
    CHECK(net::listLinksOfKind(*host, "ifb")->empty());
}

TEST_CASE("CHECK notices a missing shaper; GC removes IFBs of stale attachments", "[bandwidth]") {
    ensureBridge();
    Container a(50), b(51);
    auto ra = run(ours(), "ADD", "ca", a.ns.path(), conf("1.1.0", kLimits, a.prevResult()));
    auto rb = run(ours(), "ADD", "cb", b.ns.path(), conf("1.1.0", kLimits, b.prevResult()));
    REQUIRE(ra.exitCode == 0);
    REQUIRE(rb.exitCode == 0);
    auto host = net::NetlinkSocket::open();
    REQUIRE(net::tc::deleteQdisc(*host, linkIndex(a.host), net::tc::kRootParent).value());
    auto chk = run(ours(), "CHECK", "ca", a.ns.path(), conf("1.1.0", kLimits, *ra.json));
    CHECK(chk.exitCode == 1);
    json gc = {{"cniVersion", "1.1.0"},
               {"name", "bwnet"},
               {"type", "bandwidth"},
               {"cni.dev/valid-attachments", {{{"containerID", "cb"}, {"ifname", "eth0"}}}}};
    auto g = test::runPlugin(ours(), "GC", {{"CNI_PATH", test::binDir()}}, gc.dump());
    INFO(g.out);
    CHECK(g.exitCode == 0);
    CHECK(linkIndex(ra.json->at("interfaces")[2].at("name")) == 0);
    CHECK(linkIndex(rb.json->at("interfaces")[2].at("name")) != 0);
}

TEST_CASE("unshapedSubnets / shapedSubnets: only the selected peers are shaped", "[bandwidth]") {
    ensureBridge();
    Container c1(61), c2(62), c3(63);
    for (bool shapedList : {false, true}) {
        INFO((shapedList ? "shapedSubnets [c2]" : "unshapedSubnets [c3]"));
        json limits = kLimits;
        if (shapedList)
            limits["shapedSubnets"] = {c2.addr + "/32"};
        else
            limits["unshapedSubnets"] = {c3.addr + "/32", "fd00:1::/64"};
        auto add = run(ours(), "ADD", "c61", c1.ns.path(), conf("1.0.0", limits, c1.prevResult()));
        INFO(add.out << add.err);
        REQUIRE(add.exitCode == 0);
        double in = test::measureShapedRate(c2.ns, c1.ns, c1.addr, 16e6);
        double out = test::measureShapedRate(c1.ns, c2.ns, c2.addr, 24e6);
        double inFree = test::measureTcpRate(c3.ns, c1.ns, c1.addr, 0.8, 0.1);
        double outFree = test::measureTcpRate(c1.ns, c3.ns, c3.addr, 0.8, 0.1);
        WARN("shaped peer: in " << in / 1e6 << " out " << out / 1e6 << " Mbit/s; unshaped peer: in "
                                << inFree / 1e6 << " out " << outFree / 1e6 << " Mbit/s");
        CHECK(in == Approx(16e6).epsilon(0.10));
        CHECK(out == Approx(24e6).epsilon(0.10));
        CHECK(inFree > 10 * 24e6);
        CHECK(outFree > 10 * 24e6);
        auto chk = run(ours(), "CHECK", "c61", c1.ns.path(), conf("1.0.0", limits, *add.json));
        INFO(chk.out);
        CHECK(chk.exitCode == 0);
        json other = limits;
        other["egressRate"] = 32000000;
        CHECK(run(ours(), "CHECK", "c61", c1.ns.path(), conf("1.0.0", other, *add.json)).exitCode ==
              1);
        REQUIRE(
            run(ours(), "DEL", "c61", c1.ns.path(), conf("1.0.0", limits, *add.json)).exitCode ==
            0);
        CHECK(linkIndex(add.json->at("interfaces")[2].at("name")) == 0);
        auto host = net::NetlinkSocket::open();
        REQUIRE(net::tc::deleteQdisc(*host, linkIndex(c1.host), net::tc::kRootParent).value());
        (void)net::tc::deleteQdisc(*host, linkIndex(c1.host), net::tc::kIngressParent);
    }
    auto both = conf("1.0.0", kLimits, c1.prevResult());
    both["shapedSubnets"] = {"10.0.0.0/8"};
    both["unshapedSubnets"] = {"10.1.0.0/16"};
    auto r = run(ours(), "ADD", "c61", c1.ns.path(), both);
    CHECK(r.json->at("code") == 7);
    CHECK_THAT(r.out, Catch::Contains("cannot be both specified"));
    auto bad = conf("1.0.0", kLimits, c1.prevResult());
    bad["unshapedSubnets"] = {"10.0.0.0/8", "hello"};
    r = run(ours(), "ADD", "c61", c1.ns.path(), bad);
    CHECK(r.json->at("code") == 7);
    CHECK_THAT(r.json->at("msg").get<std::string>(), Catch::Contains("bad subnet \"hello\""));
    CHECK(!rootTbf(c1.host));
}
