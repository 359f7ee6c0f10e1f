#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "libnet/netns.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::net;

TEST_CASE("Netns::open refuses a regular file with code 8", "[netns]") {
    test::TempDir dir;
    std::ofstream(dir / "plain") << "x";
    auto ns = Netns::open(dir / "plain");
    REQUIRE_FALSE(ns);
    CHECK(ns.error().code == Code::InvalidNetns);
    CHECK(ns.error().msg == dir / "plain" + " is not a network namespace");
}

TEST_CASE("Netns::open refuses a namespace of another type", "[netns]") {
    auto ns = Netns::open("/proc/self/ns/mnt");
    REQUIRE_FALSE(ns);
    CHECK(ns.error().code == Code::InvalidNetns);
    CHECK_THAT(ns.error().msg, Catch::Contains("is not a network namespace"));
}

TEST_CASE("a missing netns path is distinguishable", "[netns]") {
    auto ns = Netns::open("/nonexistent/netns");
    REQUIRE_FALSE(ns);
    CHECK(ns.error().code == Code::InvalidNetns);
    CHECK(ns.error().errnum == ENOENT);
    auto maybe = Netns::openIfExists("/nonexistent/netns");
    REQUIRE(maybe);
    CHECK_FALSE(maybe->has_value());
}

TEST_CASE("current netns compares equal to itself and differs from a scratch one", "[netns]") {
    auto a = Netns::current();
    auto b = Netns::open("/proc/self/ns/net");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->sameAs(*b));
    CHECK(a->isCurrent());
    test::ScratchNetns scratch;
    CHECK_FALSE(scratch.netns().sameAs(*a));
    CHECK_FALSE(scratch.netns().isCurrent());
}

TEST_CASE("NetnsGuard enters and restores", "[netns]") {
    test::ScratchNetns scratch;
    auto before = Netns::current();
    REQUIRE(before);
    {
        NetnsGuard guard(scratch.netns());
        REQUIRE(guard.ok());
        CHECK(scratch.netns().isCurrent());
        // lo is up inside the scratch namespace; the ifindex file shows we really are there.
        std::ifstream flags("/sys/class/net/lo/flags");
        CHECK(flags.good());
    }
    CHECK(before->isCurrent());
    auto inside =
        inNetns(scratch.netns(), [&]() -> Expected<bool> { return scratch.netns().isCurrent(); });
    REQUIRE(inside);
    CHECK(*inside);
    CHECK(before->isCurrent());
}

TEST_CASE("pinned netns create and remove", "[netns]") {
    test::TempDir dir;
    std::string path = dir / "sub/ns1";
    {
        auto ns = createPinnedNetns(path);
        REQUIRE(ns);
        CHECK(std::filesystem::exists(path));
        auto again = Netns::open(path);
        REQUIRE(again);
        CHECK(again->sameAs(*ns));
        auto dup = createPinnedNetns(path);
        REQUIRE_FALSE(dup);
        CHECK(dup.error().errnum == EEXIST);
        // The namespace is usable: commands run in it see only lo.
        auto out = test::execIn(*ns, {"ip", "-o", "link"});
        CHECK(out.exitCode == 0);
        CHECK_THAT(out.out, Catch::Contains("lo:"));
    }
    auto removed = removePinnedNetns(path);
    REQUIRE(removed);
    CHECK(*removed);
    CHECK_FALSE(std::filesystem::exists(path));
    auto again = removePinnedNetns(path);
    REQUIRE(again);
    CHECK_FALSE(*again);
}

TEST_CASE("pinned netns with a shared directory", "[netns]") {
    test::TempDir dir;
    std::string path = dir / "run-netns/c1";
    auto ns = createPinnedNetns(path, true);
    REQUIRE(ns);
    auto mounts = test::execHere({"findmnt", "-n", "-o", "PROPAGATION", dir / "run-netns"});
    CHECK_THAT(mounts.out, Catch::Contains("shared"));
    REQUIRE(removePinnedNetns(path));
    umount2((dir / "run-netns").c_str(), MNT_DETACH);
}
