// libnet pieces that need no privileges: name/MAC validation, sysctl key checks, netns refusal.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>

#include "libnet/link.hpp"
#include "libnet/netns.hpp"
#include "libnet/route.hpp"
#include "libnet/sysctl.hpp"
#include "libnet/veth.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::net;

TEST_CASE("MAC parsing and formatting", "[libnet]") {
    auto m = parseMac("AA-bb-CC-dd-EE-0f");
    REQUIRE(m);
    CHECK(formatMac(m->data(), 6) == "aa:bb:cc:dd:ee:0f");
    CHECK(formatMac(m->data(), 0).empty());
    CHECK_FALSE(parseMac("aa:bb:cc:dd:ee"));
    CHECK_FALSE(parseMac("aa:bb:cc-dd:ee:ff"));
    CHECK_FALSE(parseMac("aa:bb:cc:dd:ee:fg"));
}

TEST_CASE("interface names are validated", "[libnet]") {
    CHECK(validateIfName("eth0"));
    CHECK(validateIfName("0123456789abcde"));
    for (const char* bad : {"", ".", "..", "a/b", "a b", "a:b", "0123456789abcdef", "a\tb"}) {
        INFO(bad);
        auto st = validateIfName(bad);
        REQUIRE_FALSE(st);
        CHECK(st.error().code == Code::InvalidConfig);
    }
}

TEST_CASE("random veth names", "[libnet]") {
    auto a = randomVethName(), b = randomVethName();
    CHECK(std::regex_match(a, std::regex("veth[0-9a-f]{8}")));
    CHECK(a != b);
}

TEST_CASE("sysctl keys must stay under net", "[libnet]") {
    for (const char* key : {"kernel.hostname", "net/../kernel/hostname", "net//ipv4", "net",
                            "net/ipv4/.", "/net/ipv4/ip_forward", "vm/../net/x"}) {
        INFO(key);
        auto r = readSysctl(key);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Code::InvalidConfig);
    }
    CHECK_FALSE(setAcceptRa("../x", 0));
}

TEST_CASE("netns open refuses what is not a network namespace", "[libnet]") {
    test::TempDir dir;
    std::ofstream(dir / "file") << "x";
    auto f = Netns::open(dir / "file");
    REQUIRE_FALSE(f);
    CHECK(f.error().code == Code::InvalidNetns);
    CHECK(f.error().msg == dir / "file" + " is not a network namespace");
    auto d = Netns::open(dir.path().string());
    REQUIRE_FALSE(d);
    CHECK(d.error().code == Code::InvalidNetns);
    auto missing = Netns::open(dir / "missing");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().errnum == ENOENT);
    auto opt = Netns::openIfExists(dir / "missing");
    REQUIRE(opt);
    CHECK_FALSE(opt->has_value());
    auto optBad = Netns::openIfExists(dir / "file");
    CHECK_FALSE(optBad);
}

TEST_CASE("default route helper", "[libnet]") {
    auto r4 = defaultRoute(*IpAddress::parse("10.0.0.1"), 3);
    CHECK(r4.dst.str() == "0.0.0.0/0");
    CHECK(r4.gw->str() == "10.0.0.1");
    CHECK(r4.ifindex == 3);
    auto r6 = defaultRoute(*IpAddress::parse("fd00::1"));
    CHECK(r6.dst.str() == "::/0");
    CHECK(r6.ifindex == 0);
}
