#include <catch2/catch.hpp>

#include <map>

#include "ipam/allocator.hpp"
#include "ipam/disk_store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::ipam;
using tether::net::IpAddress;

namespace {

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

// An in-memory Store with the same contract as the disk store.
class MemoryStore final : public Store {
  public:
    Expected<bool> reserve(const Owner& o, const IpAddress& a, size_t set) override {
        if (leases_.count(a)) return false;
        leases_[a] = o;
        last_[set] = a;
        return true;
    }
    std::optional<IpAddress> lastReserved(size_t set) override {
        auto it = last_.find(set);
        if (it == last_.end()) return std::nullopt;
        return it->second;
    }
    Expected<std::vector<IpAddress>> findByOwner(const Owner& o, Lookup) override {
        std::vector<IpAddress> out;
        for (auto& [a, owner] : leases_)
            if (owner == o) out.push_back(a);
        return out;
    }
    Expected<bool> releaseIp(const IpAddress& a, const Owner& o) override {
        auto it = leases_.find(a);
        if (it == leases_.end() || !(it->second == o)) return false;
        leases_.erase(it);
        return true;
    }
    Expected<size_t> releaseOwner(const Owner& o) override {
        return std::erase_if(leases_, [&](auto& kv) { return kv.second == o; });
    }
    Expected<std::vector<Lease>> leases() override {
        std::vector<Lease> out;
        for (auto& [a, o] : leases_)
            out.push_back({a, o});
        return out;
    }
    Expected<std::vector<IpAddress>> reservedAddresses() override {
        std::vector<IpAddress> out;
        for (auto& kv : leases_)
            out.push_back(kv.first);
        return out;
    }
    Expected<bool> forceRelease(const IpAddress& a) override { return leases_.erase(a) > 0; }

    std::map<IpAddress, Owner> leases_;
    std::map<size_t, IpAddress> last_;
};

RangeSet rangeSet(std::vector<RangeSpec> specs) {
    auto s = canonicalizeRangeSet(specs, "ipam.ranges[0]");
    REQUIRE(s);
    return *s;
}

Owner owner(int n) {
    return Owner{"c" + std::to_string(n), "eth0"};
}

std::string take(Store& store, const RangeSet& set, int n) {
    auto a = allocate(store, set, 0, owner(n), std::nullopt);
    REQUIRE(a);
    return a->address.str();
}

} // namespace

TEST_CASE("allocation starts at rangeStart, skips the gateway and carries the prefix length") {
    MemoryStore store;
    RangeSet set = rangeSet({{"10.0.0.0/29"}});
    auto a = allocate(store, set, 0, owner(1), std::nullopt);
    REQUIRE(a);
    CHECK(a->address.str() == "10.0.0.2/29");
    CHECK(a->gateway == ip("10.0.0.1"));
    CHECK(store.lastReserved(0) == ip("10.0.0.2"));
}

TEST_CASE("round robin continues after the last reserved address, even after release") {
    MemoryStore store;
    RangeSet set = rangeSet({{"10.0.0.0/29"}});
    CHECK(take(store, set, 1) == "10.0.0.2/29");
    CHECK(take(store, set, 2) == "10.0.0.3/29");
    REQUIRE(store.releaseOwner(owner(1)));
    CHECK(take(store, set, 3) == "10.0.0.4/29");
}

TEST_CASE("round robin wraps across the ranges of a set and back to the start") {
    MemoryStore store;
    RangeSet set =
        rangeSet({{"10.0.0.0/29", "10.0.0.5"}, {"10.0.1.0/29", std::nullopt, "10.0.1.3"}});
    CHECK(take(store, set, 1) == "10.0.0.5/29");
    CHECK(take(store, set, 2) == "10.0.0.6/29");
    CHECK(take(store, set, 3) == "10.0.1.2/29"); // 10.0.1.1 is that range's gateway
    CHECK(take(store, set, 4) == "10.0.1.3/29");
    REQUIRE(store.releaseOwner(owner(1)));
    CHECK(take(store, set, 5) == "10.0.0.5/29"); // wrapped
}

TEST_CASE("a last reserved address outside the set restarts at rangeStart") {
    MemoryStore store;
    store.last_[0] = ip("192.168.9.9");
    RangeSet set = rangeSet({{"10.0.0.0/29"}});
    CHECK(take(store, set, 1) == "10.0.0.2/29");
}

TEST_CASE("network and broadcast are never handed out even when inside the range") {
    MemoryStore store;
    RangeSet set = rangeSet({{"10.0.0.0/30", "10.0.0.0", "10.0.0.3", "10.0.0.2"}});
    CHECK(take(store, set, 1) == "10.0.0.1/30");
    auto b = allocate(store, set, 0, owner(2), std::nullopt);
    REQUIRE_FALSE(b);
    CHECK(b.error().code == Code::Exhausted);
}

TEST_CASE("exhaustion is a clear error naming the range set") {
    MemoryStore store;
    RangeSet set = rangeSet({{"10.0.0.0/29", std::nullopt, "10.0.0.6"}});
    for (int i = 0; i < 5; ++i)
        take(store, set, i); // .2 .. .6
    auto a = allocate(store, set, 0, owner(99), std::nullopt);
    REQUIRE_FALSE(a);
    CHECK(a.error().code == Code::Exhausted);
    CHECK(a.error().msg == "no IP addresses available in range set: 10.0.0.1-10.0.0.6");
    CHECK(capacity(set) == 5);
    CHECK_FALSE(hasFreeAddress(set, *store.reservedAddresses()));
}

TEST_CASE("requested addresses: inside the set, not the gateway, free") {
    MemoryStore store;
    RangeSet set = rangeSet({{"10.0.0.0/24"}});
    auto a = allocate(store, set, 0, owner(1), ip("10.0.0.77"));
    REQUIRE(a);
    CHECK(a->address.str() == "10.0.0.77/24");

    auto taken = allocate(store, set, 0, owner(2), ip("10.0.0.77"));
    REQUIRE_FALSE(taken);
    CHECK(taken.error().msg ==
          "requested IP address 10.0.0.77 is not available in range set 10.0.0.1-10.0.0.254");

    auto gw = allocate(store, set, 0, owner(3), ip("10.0.0.1"));
    REQUIRE_FALSE(gw);
    CHECK(gw.error().msg == "requested ip 10.0.0.1 is subnet's gateway");

    auto outside = allocate(store, set, 0, owner(4), ip("10.9.0.1"));
    REQUIRE_FALSE(outside);
    CHECK(outside.error().msg.find("not in range set") != std::string::npos);
}

TEST_CASE("an attachment holding an address of the set cannot allocate again") {
    MemoryStore store;
    RangeSet set = rangeSet({{"10.0.0.0/24"}});
    take(store, set, 1);
    auto again = allocate(store, set, 0, owner(1), std::nullopt);
    REQUIRE_FALSE(again);
    CHECK(again.error().msg ==
          "10.0.0.2 has been allocated to c1, duplicate allocation is not allowed");
    // Another ifname of the same container is another attachment.
    CHECK(allocate(store, set, 0, Owner{"c1", "eth1"}, std::nullopt));
}

TEST_CASE("capacity of big IPv6 ranges saturates instead of overflowing") {
    RangeSet set = rangeSet({{"fd00::/64"}});
    CHECK(capacity(set) == UINT64_MAX);
    CHECK(hasFreeAddress(set, {}));
}

TEST_CASE("the allocator over the disk store hands out distinct addresses round robin") {
    test::TempDir tmp;
    auto store = DiskStore::open({.dataDir = tmp.path().string(), .network = "net1"});
    REQUIRE(store);
    RangeSet set = rangeSet({{"10.0.0.0/28"}});
    std::vector<std::string> got;
    for (int i = 0; i < 13; ++i)
        got.push_back(take(**store, set, i));
    CHECK(got.front() == "10.0.0.2/28");
    CHECK(got.back() == "10.0.0.14/28");
    auto full = allocate(**store, set, 0, owner(50), std::nullopt);
    REQUIRE_FALSE(full);
    CHECK(full.error().code == Code::Exhausted);
    REQUIRE((*store)->releaseOwner(owner(4)));
    CHECK(take(**store, set, 51) == "10.0.0.6/28");
}
