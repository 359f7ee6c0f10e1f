// dhcp pieces without a network: the message codec, the lease result, the daemon's flags.
#include <catch2/catch.hpp>

#include "plugins/dhcp/daemon.hpp"
#include "plugins/dhcp/dhcp_message.hpp"
#include "plugins/dhcp/lease.hpp"

using namespace tether::dhcp;

namespace {

// A BOOTREPLY as a server sends it, with the given options.
std::vector<uint8_t> reply(MsgType type, uint32_t xid, Ip4 yiaddr,
                           const std::vector<std::pair<uint8_t, std::vector<uint8_t>>>& opts) {
    std::vector<uint8_t> b(236, 0);
    b[0] = 2;
    b[1] = 1;
    b[2] = 6;
    for (int i = 0; i < 4; ++i) {
        b[4 + i] = uint8_t(xid >> (24 - 8 * i));
        b[16 + i] = uint8_t(yiaddr >> (24 - 8 * i));
    }
    for (uint8_t c : {99, 130, 83, 99})
        b.push_back(c);
    b.insert(b.end(), {53, 1, uint8_t(type)});
    for (const auto& [code, v] : opts) {
        b.push_back(code);
        b.push_back(uint8_t(v.size()));
        b.insert(b.end(), v.begin(), v.end());
    }
    b.push_back(255);
    return b;
}

} // namespace

TEST_CASE("client messages carry type, xid, chaddr and options", "[dhcp]") {
    ClientMessage m{.type = MsgType::Request, .xid = 0x01020304, .mac = {2, 0, 0, 0, 0, 9}};
    m.requestedIp = 0x0a280064;
    m.serverId = 0x0a280001;
    m.paramRequest = {1, 3};
    m.options[61] = {0, 'i', 'd'};
    auto b = encode(m);
    REQUIRE(b.size() >= 300);
    CHECK(b[0] == 1);
    CHECK(b[4] == 1);
    CHECK(b[7] == 4);
    CHECK(b[33] == 9);
    CHECK(b[10] == 0); // no broadcast flag unless asked
    const std::vector<uint8_t> opts(b.begin() + 240, b.begin() + 240 + 3);
    CHECK(opts == std::vector<uint8_t>{53, 1, 3});
    auto s = std::string(b.begin(), b.end());
    CHECK(s.find(std::string("\x32\x04\x0a\x28\x00\x64", 6)) != std::string::npos); // opt 50
    CHECK(s.find(std::string("\x3d\x03\x00id", 5)) != std::string::npos);           // opt 61
}

TEST_CASE("an ACK becomes the CNI result", "[dhcp]") {
    SECTION("router and DNS, no classless routes") {
        auto b = reply(MsgType::Ack, 7, 0x0a280065,
                       {{1, {255, 255, 255, 0}},
                        {3, {10, 40, 0, 1}},
                        {6, {10, 40, 0, 53, 10, 40, 0, 54}},
                        {15, {'e', 'x'}}});
        auto m = decode(b.data(), b.size());
        REQUIRE(m);
        CHECK(m->type == MsgType::Ack);
        auto r = resultOf(*m);
        REQUIRE(r.ips.size() == 1);
        CHECK(r.ips[0].address == "10.40.0.101/24");
        CHECK(r.ips[0].gateway == "10.40.0.1");
        REQUIRE(r.routes.size() == 1);
        CHECK(r.routes[0].dst == "0.0.0.0/0");
        CHECK(r.routes[0].gw == "10.40.0.1");
        CHECK(r.dns.nameservers == std::vector<std::string>{"10.40.0.53", "10.40.0.54"});
        CHECK(r.dns.domain == "ex");
    }
    SECTION("option 121 replaces the router's default route") {
        auto b = reply(
            MsgType::Ack, 7, 0xc0a80105,
            {{3, {192, 168, 1, 1}}, {121, {24, 10, 9, 8, 192, 168, 1, 2, 0, 192, 168, 1, 254}}});
        auto m = decode(b.data(), b.size());
        REQUIRE(m);
        auto r = resultOf(*m);
        CHECK(r.ips[0].address == "192.168.1.5/24"); // class C without option 1
        REQUIRE(r.routes.size() == 2);
        CHECK(r.routes[0].dst == "10.9.8.0/24");
        CHECK(r.routes[0].gw == "192.168.1.2");
        CHECK(r.routes[1].dst == "0.0.0.0/0");
        CHECK(r.routes[1].gw == "192.168.1.254");
    }
    SECTION("a request or garbage is not a reply") {
        auto b = reply(MsgType::Ack, 7, 1, {});
        b[0] = 1;
        CHECK_FALSE(decode(b.data(), b.size()));
        CHECK_FALSE(decode(b.data(), 100));
    }
}

TEST_CASE("a domain name that is not UTF-8 still gives a result that can be written", "[dhcp]") {
    // found by tests/fuzz fuzz_dhcp (seed ack-bad-mask): dump() threw type_error 316
    auto b = reply(MsgType::Ack, 7, 0x0a280065,
                   {{15, {'e', 'x', 0xff, 0xfe, 'a', 0xc3, 0xa9, 0, 'z', 0}}});
    auto m = decode(b.data(), b.size());
    REQUIRE(m);
    auto r = resultOf(*m);
    CHECK(r.dns.domain == "ex\xEF\xBF\xBD\xEF\xBF\xBD"
                          "a\xC3\xA9"); // U+FFFD twice, é kept, cut at the NUL
    auto j = tether::cni::toJson(r, "1.1.0");
    REQUIRE(j);
    CHECK_NOTHROW(j->dump());
}

TEST_CASE("dhcp daemon flags", "[dhcp]") {
    CHECK(parseDurationMs("10s") == 10'000);
    CHECK(parseDurationMs("1m30s") == 90'000);
    CHECK(parseDurationMs("500ms") == 500);
    CHECK(parseDurationMs("7") == 7000);
    CHECK_FALSE(parseDurationMs("2d"));
    CHECK_FALSE(parseDurationMs("0s"));
    CHECK_FALSE(parseDurationMs("2h"));
    CHECK_FALSE(parseDurationMs(""));

    std::vector<std::string> a = {"-socketpath", "/tmp/x.sock", "--broadcast",
                                  "-timeout=3s", "-resendmax",  "4s"};
    std::vector<char*> argv;
    for (auto& s : a)
        argv.push_back(s.data());
    auto o = parseDaemonArgs(int(argv.size()), argv.data());
    REQUIRE(o);
    CHECK(o->socketPath == "/tmp/x.sock");
    CHECK(o->broadcast);
    CHECK(o->timeoutMs == 3000);
    CHECK(o->resendMaxMs == 4000);

    for (std::vector<std::string> bad : {std::vector<std::string>{"-nosuch"},
                                         {"-socketpath", "rel.sock"},
                                         {"-timeout", "soon"},
                                         {"-timeout"}}) {
        std::vector<char*> v;
        for (auto& s : bad)
            v.push_back(s.data());
        auto r = parseDaemonArgs(int(v.size()), v.data());
        REQUIRE_FALSE(r);
        CHECK(r.error().code == tether::Code::InvalidConfig);
        CHECK(r.error().msg.find(bad[0].substr(1)) != std::string::npos);
    }
}
