// Parsing and validation of `tether run` flags: every rejection names the flag and value.
#include <catch2/catch.hpp>

#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/options.hpp"
#include "runtime/launcher/security.hpp"

using namespace tether::rt;

TEST_CASE("options: port mappings", "[options]") {
    auto one = [](const std::string& spec) -> tether::Expected<nlohmann::json> {
        auto v = parsePortSpec(spec);
        if (!v) return std::unexpected(v.error());
        REQUIRE(v->size() == 1);
        return v->front();
    };
    auto p = one("8080:80");
    REQUIRE(p);
    CHECK((*p)["hostPort"] == 8080);
    CHECK((*p)["containerPort"] == 80);
    CHECK((*p)["protocol"] == "tcp");
    auto q = one("127.0.0.1:53:5353/udp");
    REQUIRE(q);
    CHECK((*q)["hostIP"] == "127.0.0.1");
    CHECK((*q)["protocol"] == "udp");
    auto v6 = one("[::1]:80:80");
    REQUIRE(v6);
    CHECK((*v6)["hostIP"] == "::1");
    auto ctrOnly = one("80"); // podman: a free host port is picked later (assignHostPorts)
    REQUIRE(ctrOnly);
    CHECK((*ctrOnly)["hostPort"] == 0);
    CHECK(!one("0:80"));
    CHECK(!one("80:70000"));
    CHECK(one("80:80/icmp").error().msg.find("-p 80:80/icmp") != std::string::npos);
}

TEST_CASE("options: volumes, users, sizes, names", "[options]") {
    auto v = parseVolume("/tmp:/data:ro");
    REQUIRE(v);
    CHECK(v->readOnly);
    CHECK(v->container == "/data");
    CHECK(!parseVolume("/tmp"));
    CHECK(!parseVolume("tmp:/data"));
    CHECK(!parseVolume("/tmp:/data:rx"));
    CHECK(!parseVolume("/tmp:/a/../b"));
    CHECK(!parseVolume("/nonexistent-xyz:/data"));
    CHECK(parseUser("1000:1001").value() == std::pair<uid_t, gid_t>{1000, 1001});
    CHECK(parseUser("7").value() == std::pair<uid_t, gid_t>{7, 7});
    CHECK(!parseUser("root"));
    CHECK(parseBytes("64m") == int64_t{64} << 20);
    CHECK(parseBytes("1g") == int64_t{1} << 30);
    CHECK(parseBytes("-1") == -1);
    CHECK(!parseBytes("12q"));
    // Sizes that do not fit in int64 are refused, not wrapped (signed overflow; tests/fuzz).
    CHECK(!parseBytes("99999999999g"));
    CHECK(!parseBytes("9223372036854775807k"));
    CHECK(!parseBytes("18446744073709551615"));
    CHECK(parseBytes("8589934591g") == int64_t{8589934591} << 30);
    CHECK(validName("c1.web-2_x"));
    CHECK(!validName("../etc"));
    CHECK(!validName("-x"));
    CHECK(!validName(""));
    CHECK(newContainerId().size() == 12);
}

TEST_CASE("options: cross-field validation", "[options]") {
    RunOptions o;
    o.id = "c1";
    o.command = {"true"};
    CHECK(validateRunOptions(o));
    auto both = o;
    both.rootfs = "/";
    both.image = "/";
    CHECK(!validateRunOptions(both));
    auto hostNet = o;
    hostNet.net.kind = NsMode::Host;
    hostNet.portMappings.push_back({{"hostPort", 1}});
    CHECK(validateRunOptions(hostNet).error().msg.find("-p") != std::string::npos);
    auto swap = o;
    swap.limits.memorySwapBytes = 1 << 30;
    CHECK(!validateRunOptions(swap));
    auto noCmd = o;
    noCmd.command.clear();
    CHECK(!validateRunOptions(noCmd));
}

TEST_CASE("capabilities: Docker's default set with add and drop", "[security]") {
    auto def = resolveCapabilities({}, {});
    REQUIRE(def);
    CHECK(def->size() == 14);
    auto all = resolveCapabilities({"ALL"}, {"sys_admin", "CAP_NET_ADMIN"});
    REQUIRE(all);
    CHECK(all->size() > 30);
    auto none = resolveCapabilities({}, {"ALL"});
    REQUIRE(none);
    CHECK(none->empty());
    auto bad = resolveCapabilities({"FLY"}, {});
    REQUIRE(!bad);
    CHECK(bad.error().msg == "unknown capability FLY");
}
