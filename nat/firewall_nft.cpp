#include "nat/firewall_nft.hpp"

#include <cerrno>
#include <cstring>

#include <linux/netfilter.h>
#include <net/if.h>

#include "libnet/nft.hpp"
#include "libnet/nft_set.hpp"
#include "nat/nat_table.hpp"

namespace tether::nat::fw {

namespace {

// Routed traffic: established flows pass (replies to what the container opened); a protected
// address is reached from its own bridge (same-bridge) or not at all from another container's
// address. The chain runs just before the usual filter priority; its accepts only mean "not
// dropped here" (every other table's forward chain still decides for itself).
constexpr const char* kInetSetup = R"(create table inet tether_fw
add set inet tether_fw addr4 { type ipv4_addr; }
add set inet tether_fw addr6 { type ipv6_addr; }
add set inet tether_fw prot4 { type ipv4_addr; }
add set inet tether_fw prot6 { type ipv6_addr; }
add set inet tether_fw sb4 { type ipv4_addr . ifname; }
add set inet tether_fw sb6 { type ipv6_addr . ifname; }
add chain inet tether_fw forward { type filter hook forward priority -5; policy accept; }
add rule inet tether_fw forward ct state established,related accept
add rule inet tether_fw forward ip daddr . iifname @sb4 accept
add rule inet tether_fw forward ip6 daddr . iifname @sb6 accept
add rule inet tether_fw forward ip daddr @prot4 ip saddr @addr4 drop
add rule inet tether_fw forward ip6 daddr @prot6 ip6 saddr @addr6 drop
)";

// Switched traffic between two ports of one bridge never reaches the inet forward hook (unless
// br_netfilter is loaded): isolated addresses are cut off there, both ways, as the reference's
// `-i br -o br -j DROP` does — but per address, not per bridge.
constexpr const char* kBridgeSetup = R"(create table bridge tether_fw
add set bridge tether_fw iso4 { type ipv4_addr; }
add set bridge tether_fw iso6 { type ipv6_addr; }
add chain bridge tether_fw forward { type filter hook forward priority -5; policy accept; }
add rule bridge tether_fw forward ip daddr @iso4 drop
add rule bridge tether_fw forward ip saddr @iso4 drop
add rule bridge tether_fw forward ip6 daddr @iso6 drop
add rule bridge tether_fw forward ip6 saddr @iso6 drop
)";

const std::vector<std::string> kInetSets = {"addr4", "addr6", "prot4", "prot6", "sb4", "sb6"};
const std::vector<std::string> kBridgeSets = {"iso4", "iso6"};

std::string fam(const net::IpAddress& ip) {
    return ip.isV4() ? "4" : "6";
}

net::SetElem addrElem(const std::string& set, const net::IpAddress& ip, const std::string& owner) {
    return {.set = set + fam(ip), .key = net::ConcatBuilder().addr(ip).bytes(), .comment = owner};
}

// address . ifname: the address padded to 4 bytes, then the name in IFNAMSIZ bytes.
net::SetElem sameBridgeElem(const net::IpAddress& ip, const std::string& bridge,
                            const std::string& owner) {
    auto key = net::ConcatBuilder().addr(ip).bytes();
    char name[IFNAMSIZ] = {};
    bridge.copy(name, IFNAMSIZ - 1); // at most 15 bytes: the zeroed array stays terminated
    key.insert(key.end(), name, name + IFNAMSIZ);
    return {.set = "sb" + fam(ip), .key = key, .comment = owner};
}

struct Plan {
    std::vector<net::SetElem> inet, bridge;
};

Plan plan(const Attachment& a, NftScope scope = NftScope::All) {
    Plan p;
    for (const auto& ip : a.ips) {
        p.inet.push_back(addrElem("addr", ip, a.owner));
        if (a.policy == Policy::Open) continue;
        p.inet.push_back(addrElem("prot", ip, a.owner));
        if (a.policy == Policy::SameBridge) p.inet.push_back(sameBridgeElem(ip, a.bridge, a.owner));
        if (a.policy == Policy::Isolated) p.bridge.push_back(addrElem("iso", ip, a.owner));
    }
    if (scope == NftScope::BridgeOnly) p.inet.clear();
    return p;
}

Status ensureOne(uint8_t family, const char* script, const char* what) {
    if (TRY(net::nftTableExists(family, kFwTable))) return {};
    auto nft = TRY(net::Nft::open());
    auto st = nft.run(script, what);
    if (!st && st.error().errnum == EEXIST) return {};
    return st;
}

Status commitIn(uint8_t family, const net::SetChanges& c, std::string_view what) {
    return net::commitSetElements(family, kFwTable, c, what);
}

// Every element of `sets` in one table; none when the table does not exist.
Expected<std::vector<net::SetElem>> listAll(uint8_t family, const std::vector<std::string>& sets) {
    std::vector<net::SetElem> out;
    for (const auto& s : sets) {
        auto elems = net::listSetElements(family, kFwTable, s);
        if (!elems) {
            if (elems.error().errnum == ENOENT) return out;
            return std::unexpected(elems.error());
        }
        for (auto& e : *elems)
            out.push_back(std::move(e));
    }
    return out;
}

// Deletes the owner's elements of one table: by key when `expected` are all there and owned.
Status removeIn(uint8_t family, const std::vector<std::string>& sets, const std::string& owner,
                const std::vector<net::SetElem>& expected, const std::string& what) {
    if (!expected.empty()) {
        auto found = net::getSetElements(family, kFwTable, expected);
        if (!found && found.error().errnum == ENOENT) return {}; // no table
        bool allOwned = found && found->size() == expected.size();
        for (size_t i = 0; allOwned && i < found->size(); ++i)
            allOwned = (*found)[i].comment == owner;
        if (allOwned && commitIn(family, {.del = expected}, what)) return {};
    }
    std::vector<net::SetElem> mine;
    for (auto& e : TRY(listAll(family, sets)))
        if (e.comment == owner) mine.push_back(std::move(e));
    return commitIn(family, {.del = std::move(mine)}, what);
}

Status gcIn(uint8_t family, const std::vector<std::string>& sets, const std::string& network,
            const std::vector<std::string>& keep) {
    std::vector<net::SetElem> stale;
    for (auto& e : TRY(listAll(family, sets))) {
        if (!e.comment.starts_with(networkPrefix(network))) continue;
        bool ok = false;
        for (const auto& k : keep)
            ok = ok || k == e.comment;
        if (!ok) stale.push_back(std::move(e));
    }
    return commitIn(family, {.del = std::move(stale)},
                    "gc firewall elements of network " + network);
}

} // namespace

Status ensureNftTables() {
    TRY(ensureOne(NFPROTO_INET, kInetSetup, "create nftables table inet tether_fw"));
    return ensureOne(NFPROTO_BRIDGE, kBridgeSetup, "create nftables table bridge tether_fw");
}

Status nftAdd(const Attachment& a, NftScope scope) {
    Plan p = plan(a, scope);
    if (p.inet.empty() && p.bridge.empty()) return {};
    TRY(ensureNftTables());
    const std::string what = "add firewall elements of " + a.owner;
    TRY(commitIn(NFPROTO_BRIDGE, {.add = p.bridge}, what));
    if (auto st = commitIn(NFPROTO_INET, {.add = p.inet}, what); !st) {
        (void)removeIn(NFPROTO_BRIDGE, kBridgeSets, a.owner, p.bridge, what);
        return st;
    }
    return {};
}

Status nftRemove(const std::string& owner, const std::optional<Attachment>& hint) {
    Plan p;
    if (hint) p = plan(*hint);
    const std::string what = "remove firewall elements of " + owner;
    Status inet = removeIn(NFPROTO_INET, kInetSets, owner, p.inet, what);
    Status bridge = removeIn(NFPROTO_BRIDGE, kBridgeSets, owner, p.bridge, what);
    TRY(inet);
    return bridge;
}

Status nftCheck(const Attachment& a, NftScope scope) {
    Plan p = plan(a, scope);
    for (auto [family, elems] : {std::pair{NFPROTO_INET, &p.inet}, {NFPROTO_BRIDGE, &p.bridge}}) {
        for (const auto& e : *elems) {
            auto found = net::getSetElements(uint8_t(family), kFwTable, {e});
            if (!found && found.error().errnum != ENOENT) return std::unexpected(found.error());
            if (!found || found->empty() || (*found)[0].comment != a.owner)
                return fail(Code::Internal, "firewall element of " + a.owner +
                                                " missing from set " + e.set + " of table " +
                                                (family == NFPROTO_INET ? "inet" : "bridge") +
                                                " tether_fw");
        }
    }
    return {};
}

Status nftGc(const std::string& network, const std::vector<std::string>& keep) {
    Status inet = gcIn(NFPROTO_INET, kInetSets, network, keep);
    Status bridge = gcIn(NFPROTO_BRIDGE, kBridgeSets, network, keep);
    TRY(inet);
    return bridge;
}

} // namespace tether::nat::fw
