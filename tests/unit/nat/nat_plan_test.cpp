// The nftables NAT planning (nat/nft_backend.cpp) against the in-memory element store: which
// elements ADD adds and DEL removes, host port conflicts, a repeated ADD replacing its own, GC.
// No root, no kernel.
#include <algorithm>

#include <catch2/catch.hpp>

#include "nat/memory_store.hpp"
#include "nat/nat_table.hpp"
#include "nat/nft_backend.hpp"

using namespace tether;
using namespace tether::nat;

namespace {

net::IpPrefix pfx(const char* s) {
    return *net::IpPrefix::parse(s);
}

std::vector<std::string> setsOf(const std::vector<net::SetElem>& elems) {
    std::vector<std::string> out;
    for (const auto& e : elems)
        out.push_back(e.set);
    std::sort(out.begin(), out.end());
    return out;
}

PortmapRequest mapping(const char* ip, int hostPort, int containerPort,
                       const std::string& proto = "tcp") {
    PortmapRequest r;
    r.spec.ips = {pfx(ip)};
    r.spec.mappings.push_back(
        {.protocol = proto, .hostPort = hostPort, .containerPort = containerPort});
    return r;
}

const std::string kA = ownerTag("net1", "ctrA", "eth0");
const std::string kB = ownerTag("net1", "ctrB", "eth0");
const std::string kOther = ownerTag("net2", "ctrC", "eth0");

} // namespace

TEST_CASE("masquerade ADD adds one address and one exemption element per address") {
    MemoryStore store(false); // no table yet: ADD creates it
    NftBackend nft(store);
    REQUIRE(nft.addMasq(kA, {pfx("10.1.0.5/24"), pfx("fd00::5/64")}));
    auto mine = store.ownedBy(kA);
    CHECK(setsOf(mine) == std::vector<std::string>{"masq4", "masq6", "nomasq4", "nomasq6"});
    for (const auto& e : mine)
        if (e.set.starts_with("nomasq")) CHECK_FALSE(e.keyEnd.empty()); // address . subnet range
    CHECK(nft.checkMasq(kA, {pfx("10.1.0.5/24")}));
    auto missing = nft.checkMasq(kB, {pfx("10.1.0.5/24")}); // the element is A's, not B's
    REQUIRE_FALSE(missing);
    CHECK(missing.error().msg.find("10.1.0.5") != std::string::npos);
    // A repeated ADD is idempotent: still two elements for the one address.
    REQUIRE(nft.addMasq(kA, {pfx("10.1.0.5/24")}));
    CHECK(store.ownedBy(kA).size() == 4);
}

TEST_CASE("masquerade DEL removes only the attachment's elements, with or without the hint") {
    MemoryStore store;
    NftBackend nft(store);
    REQUIRE(nft.addMasq(kA, {pfx("10.1.0.5/24")}));
    REQUIRE(nft.addMasq(kB, {pfx("10.1.0.6/24")}));
    SECTION("by key (prevResult known)") {
        REQUIRE(nft.removeMasq(kA, {pfx("10.1.0.5/24")}));
    }
    SECTION("by listing (no prevResult)") {
        REQUIRE(nft.removeMasq(kA, {}));
    }
    SECTION("a wrong hint falls back to listing") {
        REQUIRE(nft.removeMasq(kA, {pfx("10.1.0.99/24")}));
    }
    CHECK(store.ownedBy(kA).empty());
    CHECK(store.ownedBy(kB).size() == 2);
    // A second DEL is success and changes nothing.
    const int before = store.transactions();
    REQUIRE(nft.removeMasq(kA, {pfx("10.1.0.5/24")}));
    CHECK(store.transactions() == before);
}

TEST_CASE("masquerade DEL without a table is success") {
    MemoryStore store(false);
    NftBackend nft(store);
    CHECK(nft.removeMasq(kA, {pfx("10.1.0.5/24")}));
    CHECK(nft.removeMasq(kA, {}));
}

TEST_CASE("masquerade GC keeps listed attachments and other networks") {
    MemoryStore store;
    NftBackend nft(store);
    REQUIRE(nft.addMasq(kA, {pfx("10.1.0.5/24")}));
    REQUIRE(nft.addMasq(kB, {pfx("10.1.0.6/24")}));
    REQUIRE(nft.addMasq(kOther, {pfx("10.2.0.6/24")}));
    REQUIRE(nft.gcMasq("net1", {kA}));
    CHECK(store.ownedBy(kA).size() == 2);
    CHECK(store.ownedBy(kB).empty());
    CHECK(store.ownedBy(kOther).size() == 2);
}

TEST_CASE("port mapping ADD creates the mapping and its hairpin SNAT entry") {
    MemoryStore store;
    NftBackend nft(store);
    REQUIRE(nft.addPortmap(kA, mapping("10.1.0.5/24", 8080, 80)));
    CHECK(setsOf(store.ownedBy(kA)) == std::vector<std::string>{"pm4", "pmsnat4"});
    auto pm = store.ownedBy(kA);
    auto it = std::find_if(pm.begin(), pm.end(), [](auto& e) { return e.set == "pm4"; });
    REQUIRE(it != pm.end());
    // data: container address . container port
    CHECK(it->data == net::ConcatBuilder().addr(pfx("10.1.0.5/24").address()).port(80).bytes());
    CHECK(nft.checkPortmap(kA, mapping("10.1.0.5/24", 8080, 80)));
    CHECK_FALSE(nft.checkPortmap(kA, mapping("10.1.0.5/24", 8081, 80)));
}

TEST_CASE("port mapping without snat/masqAll adds no SNAT entry; hostIP uses pm4ip") {
    MemoryStore store;
    NftBackend nft(store);
    auto r = mapping("10.1.0.5/24", 8080, 80);
    r.spec.snat = false;
    r.spec.mappings[0].hostIP = net::IpAddress::parse("192.0.2.1");
    REQUIRE(nft.addPortmap(kA, r));
    CHECK(setsOf(store.ownedBy(kA)) == std::vector<std::string>{"pm4ip"});
}

TEST_CASE("the same host port twice is a conflict naming the owner, and changes nothing") {
    MemoryStore store;
    NftBackend nft(store);
    REQUIRE(nft.addPortmap(kA, mapping("10.1.0.5/24", 8080, 80)));
    const auto before = store.elements();
    auto req = mapping("10.1.0.6/24", 9090, 90); // a free port ...
    req.spec.mappings.push_back({.protocol = "tcp", .hostPort = 8080, .containerPort = 80});
    auto st = nft.addPortmap(kB, req); // ... and A's port: all or nothing
    REQUIRE_FALSE(st);
    CHECK(st.error().code == Code::Conflict);
    CHECK(st.error().msg.find("8080/tcp") != std::string::npos);
    CHECK(st.error().msg.find(kA) != std::string::npos);
    CHECK(store.elements().size() == before.size());
    CHECK(store.ownedBy(kB).empty());
    CHECK_FALSE(nft.refuseTaken(kB, mapping("10.1.0.6/24", 8080, 80)));
    CHECK(nft.refuseTaken(kA, mapping("10.1.0.5/24", 8080, 80))); // one's own is not taken
    // Another protocol on the same port is not the same mapping.
    CHECK(nft.addPortmap(kB, mapping("10.1.0.6/24", 8080, 80, "udp")));
}

TEST_CASE("a repeated ADD of the same attachment replaces what it had") {
    MemoryStore store;
    NftBackend nft(store);
    REQUIRE(nft.addPortmap(kA, mapping("10.1.0.5/24", 8080, 80)));
    auto again = mapping("10.1.0.7/24", 8080, 81); // same host port, new address and port
    REQUIRE(nft.addPortmap(kA, again));
    auto mine = store.ownedBy(kA);
    CHECK(setsOf(mine) == std::vector<std::string>{"pm4", "pmsnat4"});
    for (const auto& e : mine)
        if (e.set == "pm4")
            CHECK(e.data ==
                  net::ConcatBuilder().addr(pfx("10.1.0.7/24").address()).port(81).bytes());
}

TEST_CASE("a repeated ADD with other ports drops the ports the attachment had") {
    MemoryStore store;
    NftBackend nft(store);
    REQUIRE(nft.addPortmap(kB, mapping("10.1.0.6/24", 7070, 70))); // someone else's, untouched
    REQUIRE(nft.addPortmap(kA, mapping("10.1.0.5/24", 8080, 80)));
    REQUIRE(nft.addPortmap(kA, mapping("10.1.0.5/24", 9090, 90))); // no shared key: no EEXIST
    auto mine = store.ownedBy(kA);
    CHECK(setsOf(mine) == std::vector<std::string>{"pm4", "pmsnat4"});
    CHECK(nft.checkPortmap(kA, mapping("10.1.0.5/24", 9090, 90)));
    CHECK_FALSE(nft.checkPortmap(kA, mapping("10.1.0.5/24", 8080, 80)));
    CHECK(nft.checkPortmap(kB, mapping("10.1.0.6/24", 7070, 70)));
    // The old port is free for another attachment now.
    CHECK(nft.addPortmap(kOther, mapping("10.2.0.5/24", 8080, 80)));
}

TEST_CASE("port mapping DEL removes the attachment's elements only; twice is fine") {
    MemoryStore store;
    NftBackend nft(store);
    REQUIRE(nft.addPortmap(kA, mapping("10.1.0.5/24", 8080, 80)));
    REQUIRE(nft.addPortmap(kB, mapping("10.1.0.6/24", 8081, 80)));
    SECTION("known mappings") {
        REQUIRE(nft.removePortmap(kA, mapping("10.1.0.5/24", 8080, 80)));
    }
    SECTION("nothing known") {
        REQUIRE(nft.removePortmap(kA, {}));
    }
    CHECK(store.ownedBy(kA).empty());
    CHECK(store.ownedBy(kB).size() == 2);
    CHECK(nft.removePortmap(kA, {}));
    // The port is free again.
    CHECK(nft.addPortmap(kB, mapping("10.1.0.6/24", 8080, 80)));
}

TEST_CASE("port mapping GC sweeps unlisted attachments of the network, condition sets too") {
    MemoryStore store;
    store.addSet("pmc-x4");
    NftBackend nft(store);
    auto cond = mapping("10.1.0.5/24", 8080, 80);
    cond.cond.set4 = "pmc-x4";
    REQUIRE(nft.addPortmap(kA, cond));
    CHECK(setsOf(store.ownedBy(kA)) ==
          std::vector<std::string>{"pm4", "pmc-x4", "pmc4", "pmsnat4"});
    REQUIRE(nft.addPortmap(kB, mapping("10.1.0.6/24", 8081, 80)));
    REQUIRE(nft.addPortmap(kOther, mapping("10.2.0.6/24", 8082, 80)));
    REQUIRE(nft.gcPortmap("net1", {kB}, cond.cond));
    CHECK(store.ownedBy(kA).empty());
    CHECK(store.ownedBy(kB).size() == 2);
    CHECK(store.ownedBy(kOther).size() == 2);
}

TEST_CASE("a missing condition set is created once and the ADD retried") {
    MemoryStore store;
    NftBackend nft(store);
    auto req = mapping("10.1.0.5/24", 8080, 80);
    req.cond.set4 = "pmc-y4";
    int created = 0;
    req.createConditions = [&] {
        ++created;
        store.addSet("pmc-y4");
        return Status{};
    };
    REQUIRE(nft.addPortmap(kA, req));
    CHECK(created == 1);
    CHECK(store.ownedBy(kA).size() == 4);
}
