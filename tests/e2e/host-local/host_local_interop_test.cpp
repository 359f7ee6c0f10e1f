// Our host-local and the reference binary sharing one data dir: each must honour, check and
// release what the other wrote, and round robin must continue across them.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "tests/e2e/host-local/host_local_env.hpp"

using namespace tether::test;
using namespace tether::test::hostlocal;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const json kDual = {{"ranges", json::array({json::array({{{"subnet", "10.30.0.0/24"}}}),
                                            json::array({{{"subnet", "fd30::/120"}}})})},
                    {"routes", json::array({{{"dst", "0.0.0.0/0"}}})}};

#define REQUIRE_REFERENCE()                                                                        \
    if (reference().empty()) {                                                                     \
        WARN("reference host-local not installed in /usr/lib/cni: skipped");                       \
        return;                                                                                    \
    }

} // namespace

TEST_CASE("same config, same result as the reference in every version it supports") {
    REQUIRE_REFERENCE();
    for (std::string v : {"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"}) {
        SECTION(v) {
            TempDir a, b;
            auto mine = run(ours(), {}, config(a.path().string(), kDual, v));
            auto theirs = run(reference(), {}, config(b.path().string(), kDual, v));
            INFO(mine.out << "\n---\n" << theirs.out);
            REQUIRE(mine.exitCode == 0);
            REQUIRE(theirs.exitCode == 0);
            CHECK(normalized(*mine.json) == normalized(*theirs.json));
            for (const auto& f : leaseFiles(a.path()))
                CHECK(readFile(a.path() / "net1" / f) == readFile(b.path() / "net1" / f));
            CHECK(leaseFiles(a.path()) == leaseFiles(b.path()));
            CHECK(readFile(a.path() / "net1" / "last_reserved_ip.0") ==
                  readFile(b.path() / "net1" / "last_reserved_ip.0"));
        }
    }
}

TEST_CASE("ours allocates, the reference checks and releases") {
    REQUIRE_REFERENCE();
    TempDir data;
    auto conf = config(data.path().string(), kDual);
    REQUIRE(run(ours(), {}, conf).exitCode == 0);
    CHECK(run(reference(), {.command = "CHECK"}, conf).exitCode == 0);
    auto dup = run(reference(), {}, conf);
    CHECK(dup.exitCode != 0); // the reference sees our reservation as a duplicate
    auto del = run(reference(), {.command = "DEL"}, conf);
    CHECK(del.exitCode == 0);
    CHECK(leaseFiles(data.path()).empty());
    CHECK(run(ours(), {.command = "CHECK"}, conf).exitCode != 0);
    // And we can allocate the same attachment again afterwards (stale index ignored).
    auto again = run(ours(), {}, conf);
    INFO(again.out);
    CHECK(again.exitCode == 0);
}

TEST_CASE("the reference allocates, ours checks and releases") {
    REQUIRE_REFERENCE();
    TempDir data;
    auto conf = config(data.path().string(), kDual);
    REQUIRE(run(reference(), {}, conf).exitCode == 0);
    REQUIRE(run(reference(), {.containerId = "other"}, conf).exitCode == 0);
    CHECK(run(ours(), {.command = "CHECK"}, conf).exitCode == 0);
    CHECK(run(ours(), {.command = "CHECK", .ifname = "eth1"}, conf).exitCode != 0);
    CHECK(run(ours(), {.command = "DEL"}, conf).exitCode == 0);
    CHECK(leaseFiles(data.path()) == std::vector<std::string>{"10.30.0.3", "fd30::3"});
    CHECK(run(ours(), {.command = "DEL"}, conf).exitCode == 0);
    CHECK(run(reference(), {.command = "CHECK", .containerId = "other"}, conf).exitCode == 0);
}

TEST_CASE("round robin continues across implementations via last_reserved_ip") {
    REQUIRE_REFERENCE();
    TempDir data;
    auto conf = config(data.path().string(), kDual);
    std::vector<std::string> got;
    for (int i = 0; i < 6; ++i) {
        auto r = run(i % 2 ? reference() : ours(), {.containerId = "c" + std::to_string(i)}, conf);
        INFO(r.out);
        REQUIRE(r.exitCode == 0);
        got.push_back(r.json->at("ips")[0]["address"].get<std::string>());
    }
    CHECK(got == std::vector<std::string>{"10.30.0.2/24", "10.30.0.3/24", "10.30.0.4/24",
                                          "10.30.0.5/24", "10.30.0.6/24", "10.30.0.7/24"});
    // Releasing by the other implementation, then allocating, still moves forward.
    CHECK(run(ours(), {.command = "DEL", .containerId = "c1"}, conf).exitCode == 0);
    CHECK(run(reference(), {.command = "DEL", .containerId = "c2"}, conf).exitCode == 0);
    auto next = run(ours(), {.containerId = "c9"}, conf);
    REQUIRE(next.exitCode == 0);
    CHECK(next.json->at("ips")[0]["address"] == "10.30.0.8/24");
}

TEST_CASE("legacy reservations (container ID only) are released by ours") {
    TempDir data;
    auto conf = config(data.path().string(), kDual);
    fs::create_directories(data.path() / "net1");
    { std::ofstream(data.path() / "net1" / "10.30.0.40") << "c1"; }
    CHECK(run(ours(), {.command = "CHECK"}, conf).exitCode == 0);
    CHECK(run(ours(), {.command = "DEL"}, conf).exitCode == 0);
    CHECK(leaseFiles(data.path()).empty());
}

TEST_CASE("50 concurrent ADDs mixing ours and the reference never collide") {
    REQUIRE_REFERENCE();
    TempDir data;
    json ipam = {{"ranges", json::array({json::array({{{"subnet", "10.40.0.0/24"}}})})}};
    auto results = parallelAdds(50, {ours(), reference()}, config(data.path().string(), ipam));
    std::set<std::string> seen;
    for (auto& [code, out] : results) {
        INFO(out);
        REQUIRE(code == 0);
        seen.insert(json::parse(out)["ips"][0]["address"].get<std::string>());
    }
    CHECK(seen.size() == 50);
    CHECK(leaseFiles(data.path()).size() == 50);
    for (const auto& f : leaseFiles(data.path()))
        CHECK(readFile(data.path() / "net1" / f).starts_with("p"));
}
