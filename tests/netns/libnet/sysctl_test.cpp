#include <catch2/catch.hpp>

#include "libnet/link.hpp"
#include "libnet/sysctl.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::net;

TEST_CASE("sysctl write inside a netns is visible there only", "[sysctl]") {
    test::ScratchNetns a, b;
    REQUIRE(writeSysctl(a.netns(), "net.ipv4.ip_forward", "1"));
    auto read = readSysctl(a.netns(), "net/ipv4/ip_forward");
    REQUIRE(read);
    CHECK(*read == "1");
    CHECK(a.exec({"cat", "/proc/sys/net/ipv4/ip_forward"}).out == "1\n");
    CHECK(b.exec({"cat", "/proc/sys/net/ipv4/ip_forward"}).out == "0\n");

    REQUIRE(setForwarding(b.netns(), Family::V6, true));
    CHECK(b.exec({"cat", "/proc/sys/net/ipv6/conf/all/forwarding"}).out == "1\n");
    REQUIRE(setForwarding(b.netns(), Family::V6, true));
}

TEST_CASE("accept_ra on an interface with a dot in its name", "[sysctl]") {
    test::ScratchNetns ns;
    REQUIRE(
        ns.exec({"ip", "link", "add", "d0.5", "type", "veth", "peer", "name", "d0p"}).exitCode ==
        0);
    auto st = ns.run([] { return setAcceptRa("d0.5", 0); });
    REQUIRE(st);
    CHECK(ns.exec({"cat", "/proc/sys/net/ipv6/conf/d0.5/accept_ra"}).out == "0\n");
    CHECK(ns.run([] { return setAcceptRa("missing0", 0); }));
}

TEST_CASE("sysctl keys outside net are refused", "[sysctl]") {
    for (const char* key :
         {"kernel.hostname", "net/../kernel/hostname", "net//ipv4", "net", "net/ipv4/."}) {
        auto r = readSysctl(key);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Code::InvalidConfig);
    }
    auto missing = readSysctl("net/ipv4/no_such_key");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().errnum == ENOENT);
}
