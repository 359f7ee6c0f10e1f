// libnet/tc and libnet/link_extra against the kernel, cross-checked with what iproute2's `tc`
// and `ip` report and compute.
#include <catch2/catch.hpp>

#include "libnet/link.hpp"
#include "libnet/link_extra.hpp"
#include "libnet/tc.hpp"
#include "tests/netns/libnet/test_links.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::net;

namespace {

std::optional<tc::Qdisc> rootQdisc(test::ScratchNetns& ns, int ifindex) {
    auto qs = tc::listQdiscs(ns.nl(), ifindex);
    REQUIRE(qs);
    for (const auto& q : *qs)
        if (q.parent == tc::kRootParent) return q;
    return std::nullopt;
}

} // namespace

TEST_CASE("tbfParams computes what tc computes for the same rate, burst and latency", "[tc]") {
    test::ScratchNetns ns;
    int idx = test::makeTestLink(ns, "tbf0");
    auto ticks = tc::ticksPerUsec();
    REQUIRE(ticks);
    CHECK(*ticks > 0);
    // 16 Mbit/s with a 50000-byte bucket and 25 ms of queue, as `tc` turns it into kernel units.
    REQUIRE(ns.exec({"tc", "qdisc", "add", "dev", "tbf0", "root", "tbf", "rate", "16mbit", "burst",
                     "50000", "latency", "25ms"})
                .exitCode == 0);
    auto byTc = rootQdisc(ns, idx);
    REQUIRE(byTc);
    REQUIRE(byTc->kind == "tbf");
    REQUIRE(byTc->tbf);
    tc::TbfParams ours = tc::tbfParams(16000000, 400000, *ticks, 25);
    CHECK(ours.rate == 2000000);
    CHECK(byTc->tbf->rate == ours.rate);
    CHECK(byTc->tbf->limit == ours.limit);
    CHECK(byTc->tbf->buffer == Approx(ours.buffer).epsilon(0.001));
}

TEST_CASE("addTbf, addIngress and the redirect filter as the kernel and tc report them", "[tc]") {
    test::ScratchNetns ns;
    int veth = test::makeTestLink(ns, "bw0");
    auto ifb = createIfb(ns.nl(), {.name = "ifbt0", .mtu = 1400, .alias = "owner:x", .txQLen = 77});
    REQUIRE(ifb);
    auto ticks = tc::ticksPerUsec();
    REQUIRE(ticks);
    const tc::TbfParams p = tc::tbfParams(8000000, 80000, *ticks);

    REQUIRE(tc::addTbf(ns.nl(), *ifb, p));
    auto again = tc::addTbf(ns.nl(), *ifb, p);
    REQUIRE(!again);
    CHECK(again.error().code == Code::Conflict);
    auto q = rootQdisc(ns, *ifb);
    REQUIRE(q);
    CHECK(q->kind == "tbf");
    CHECK(q->handle == tc::kTbfHandle);
    REQUIRE(q->tbf);
    CHECK(*q->tbf == p);
    auto shown = ns.exec({"tc", "-j", "qdisc", "show", "dev", "ifbt0", "root"});
    REQUIRE(shown.exitCode == 0);
    CHECK(shown.json()[0].at("kind") == "tbf");
    CHECK(shown.json()[0].at("options").at("rate") == 1000000);

    REQUIRE(tc::addIngress(ns.nl(), veth));
    REQUIRE(tc::addRedirectFilter(ns.nl(), veth, *ifb));
    auto filters = tc::listFilters(ns.nl(), veth, tc::kIngressHandle);
    REQUIRE(filters);
    REQUIRE(filters->size() == 1);
    CHECK((*filters)[0].kind == "u32");
    CHECK((*filters)[0].matchAll);
    CHECK((*filters)[0].protocol == 3); // ETH_P_ALL
    CHECK((*filters)[0].priority == 1);
    CHECK((*filters)[0].redirectTo == *ifb);
    auto f = ns.exec({"tc", "filter", "show", "dev", "bw0", "ingress"});
    REQUIRE(f.exitCode == 0);
    CHECK_THAT(f.out, Catch::Contains("Egress Redirect to device ifbt0"));
    CHECK_THAT(f.out, Catch::Contains("match 00000000/00000000 at 0"));

    CHECK(tc::deleteQdisc(ns.nl(), veth, tc::kIngressParent).value());
    CHECK(!tc::deleteQdisc(ns.nl(), veth, tc::kIngressParent).value());
    auto none = tc::listFilters(ns.nl(), veth, tc::kIngressHandle);
    REQUIRE(none);
    CHECK(none->empty());
    CHECK(tc::deleteQdisc(ns.nl(), *ifb, tc::kRootParent).value());
    CHECK(!tc::deleteQdisc(ns.nl(), *ifb, tc::kRootParent).value());
    auto after = rootQdisc(ns, *ifb);
    CHECK((!after || after->kind != "tbf"));
}

TEST_CASE("createIfb, listLinksOfKind and the tuning attributes of a link", "[tc][link]") {
    test::ScratchNetns ns;
    auto ifb = createIfb(ns.nl(), {.name = "ifbt1", .mtu = 1300, .alias = "tag:a", .txQLen = 55});
    REQUIRE(ifb);
    auto dup = createIfb(ns.nl(), {.name = "ifbt1"});
    REQUIRE(!dup);
    CHECK(dup.error().code == Code::Conflict);
    CHECK(!createIfb(ns.nl(), {.name = "bad/name"}));
    int veth = test::makeTestLink(ns, "tv0");

    auto ifbs = listLinksOfKind(ns.nl(), "ifb");
    REQUIRE(ifbs);
    REQUIRE(ifbs->size() == 1);
    CHECK((*ifbs)[0].name == "ifbt1");
    CHECK((*ifbs)[0].alias == "tag:a");
    CHECK((*ifbs)[0].index == *ifb);
    auto veths = listLinksOfKind(ns.nl(), "veth");
    REQUIRE(veths);
    CHECK(veths->size() == 2);

    auto t = getLinkTuning(ns.nl(), *ifb);
    REQUIRE(t);
    CHECK(t->mtu == 1300);
    CHECK(t->txQLen == 55);
    auto l = getLink(ns.nl(), "ifbt1");
    REQUIRE(l);
    CHECK(l->up);

    REQUIRE(setLinkTxQLen(ns.nl(), veth, 123));
    REQUIRE(setLinkAllmulti(ns.nl(), veth, true));
    REQUIRE(setLinkPromisc(ns.nl(), veth, true));
    auto v = getLinkTuning(ns.nl(), veth);
    REQUIRE(v);
    CHECK(v->txQLen == 123);
    CHECK(v->allmulti);
    CHECK(v->promisc);
    auto shown = ns.exec({"ip", "-j", "link", "show", "tv0"});
    REQUIRE(shown.exitCode == 0);
    CHECK(shown.json()[0].at("txqlen") == 123);
    REQUIRE(setLinkAllmulti(ns.nl(), veth, false));
    REQUIRE(setLinkPromisc(ns.nl(), veth, false));
    v = getLinkTuning(ns.nl(), veth);
    CHECK(!v->allmulti);
    CHECK(!v->promisc);
    auto gone = getLinkTuning(ns.nl(), 99999);
    REQUIRE(!gone);
    CHECK(gone.error().errnum == ENODEV);
}

TEST_CASE("HTB qdisc, classes and subnet filters as tc reports them", "[tc]") {
    test::ScratchNetns ns;
    int idx = test::makeTestLink(ns, "htb0");
    REQUIRE(tc::addHtb(ns.nl(), idx, tc::kShapedMinor));
    CHECK(tc::addHtb(ns.nl(), idx, tc::kShapedMinor).error().code == Code::Conflict);
    const uint32_t shaped = 0x10000u | tc::kShapedMinor, free = 0x10000u | tc::kUnshapedMinor;
    REQUIRE(tc::addHtbClass(
        ns.nl(), idx,
        {.handle = shaped, .rate = 125000, .ceil = 250000, .buffer = 9000, .cbuffer = 9000}));
    REQUIRE(tc::addHtbClass(
        ns.nl(), idx, {.handle = free, .rate = tc::kUncappedRate, .ceil = tc::kUncappedRate}));
    auto qs = tc::listQdiscs(ns.nl(), idx);
    REQUIRE(qs);
    bool root = false;
    for (const auto& q : *qs)
        root = root || (q.parent == tc::kRootParent && q.kind == "htb" && q.htbDefault == 48);
    CHECK(root);
    auto classes = tc::listHtbClasses(ns.nl(), idx);
    REQUIRE(classes);
    REQUIRE(classes->size() == 2);
    for (const auto& c : *classes) {
        if (c.handle == shaped) {
            CHECK(c.rate == 125000);
            CHECK(c.ceil == 250000);
            CHECK(c.buffer == 9000);
        } else {
            CHECK(c.handle == free);
            CHECK(c.rate == tc::kUncappedRate);
        }
    }
    auto v4 = IpPrefix::parse("10.1.2.3/8");
    auto v6 = IpPrefix::parse("fd00:db8:abcd:1234:e000::/68");
    REQUIRE(tc::addSubnetFilter(ns.nl(), idx, *v4, tc::Match::Source, free));
    REQUIRE(tc::addSubnetFilter(ns.nl(), idx, *v6, tc::Match::Destination, free));
    auto f = ns.exec({"tc", "filter", "show", "dev", "htb0"});
    REQUIRE(f.exitCode == 0);
    INFO(f.out);
    CHECK_THAT(f.out, Catch::Contains("flowid 1:1"));
    CHECK_THAT(f.out, Catch::Contains("match 0a000000/ff000000 at 12"));
    CHECK_THAT(f.out, Catch::Contains("match fd000db8/ffffffff at 24"));
    CHECK_THAT(f.out, Catch::Contains("match abcd1234/ffffffff at 28"));
    CHECK_THAT(f.out, Catch::Contains("match e0000000/f0000000 at 32"));
    CHECK(tc::deleteQdisc(ns.nl(), idx, tc::kRootParent).value());
    CHECK(tc::listHtbClasses(ns.nl(), idx)->empty());
}
