#include "nat/nat_table.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include <linux/netfilter.h>

namespace tether::nat {

namespace {

// The rules of chain hostports. Mappings with conditions (conditionsV4/V6) have their key in
// pmc4/pmc4ip/pmc6/pmc6ip too: the per-config chains jumped to from pmconds DNAT them when the
// conditions match, and the plain rules below skip them.
constexpr const char* kHostportsRules = R"(add rule inet tether hostports jump pmconds
add rule inet tether hostports meta nfproto ipv4 ip daddr . meta l4proto . th dport != @pmc4ip dnat ip to ip daddr . meta l4proto . th dport map @pm4ip
add rule inet tether hostports meta nfproto ipv4 meta l4proto . th dport != @pmc4 dnat ip to meta l4proto . th dport map @pm4
add rule inet tether hostports meta nfproto ipv6 ip6 daddr . meta l4proto . th dport != @pmc6ip dnat ip6 to ip6 daddr . meta l4proto . th dport map @pm6ip
add rule inet tether hostports meta nfproto ipv6 meta l4proto . th dport != @pmc6 dnat ip6 to meta l4proto . th dport map @pm6
)";

// A table made before conditions existed (no pmc4): the sets, chain pmconds and the new
// hostports rules, atomically (`create` fails with EEXIST when a concurrent upgrade won).
constexpr const char* kUpgrade = R"(create set inet tether pmc4 { type inet_proto . inet_service; }
add set inet tether pmc4ip { type ipv4_addr . inet_proto . inet_service; }
add set inet tether pmc6 { type inet_proto . inet_service; }
add set inet tether pmc6ip { type ipv6_addr . inet_proto . inet_service; }
add chain inet tether pmconds
flush chain inet tether hostports
)";

// Created once, atomically, with `create table` (fails with EEXIST when it exists already).
constexpr const char* kSetup = R"(create table inet tether
add set inet tether masq4 { type ipv4_addr; }
add set inet tether masq6 { type ipv6_addr; }
add set inet tether nomasq4 { type ipv4_addr . ipv4_addr; flags interval; }
add set inet tether nomasq6 { type ipv6_addr . ipv6_addr; flags interval; }
add map inet tether pm4 { type inet_proto . inet_service : ipv4_addr . inet_service; }
add map inet tether pm4ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
add map inet tether pm6 { type inet_proto . inet_service : ipv6_addr . inet_service; }
add map inet tether pm6ip { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }
add set inet tether pmsnat4 { type ipv4_addr . ipv4_addr; flags interval; }
add set inet tether pmsnat6 { type ipv6_addr . ipv6_addr; flags interval; }
add set inet tether pmc4 { type inet_proto . inet_service; }
add set inet tether pmc4ip { type ipv4_addr . inet_proto . inet_service; }
add set inet tether pmc6 { type inet_proto . inet_service; }
add set inet tether pmc6ip { type ipv6_addr . inet_proto . inet_service; }
add chain inet tether pmconds
add chain inet tether hostports
)";

// After the hostports rules.
constexpr const char* kSetupTail =
    R"(add chain inet tether prerouting { type nat hook prerouting priority -100; policy accept; }
add rule inet tether prerouting fib daddr type local jump hostports
add chain inet tether output { type nat hook output priority -100; policy accept; }
add rule inet tether output fib daddr type local jump hostports
add chain inet tether postrouting { type nat hook postrouting priority 100; policy accept; }
add rule inet tether postrouting ct status dnat ip saddr . ip daddr @pmsnat4 masquerade
add rule inet tether postrouting ct status dnat ip6 saddr . ip6 daddr @pmsnat6 masquerade
add rule inet tether postrouting ct status dnat ip saddr 127.0.0.0/8 masquerade
add rule inet tether postrouting ip daddr 224.0.0.0/4 return
add rule inet tether postrouting ip6 daddr ff00::/8 return
add rule inet tether postrouting ip saddr . ip daddr @nomasq4 return
add rule inet tether postrouting ip6 saddr . ip6 daddr @nomasq6 return
add rule inet tether postrouting ip saddr @masq4 masquerade
add rule inet tether postrouting ip6 saddr @masq6 masquerade
)";

bool safeChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

} // namespace

std::string ownerTag(const std::string& network, const std::string& containerId,
                     const std::string& ifname) {
    std::string ifPart;
    bool safe = true;
    for (char c : ifname)
        safe = safe && safeChar(c);
    if (safe) {
        ifPart = ifname;
    } else {
        char buf[3];
        for (unsigned char c : ifname) {
            std::snprintf(buf, sizeof buf, "%02x", c);
            ifPart += buf;
        }
        ifPart = "x" + ifPart;
    }
    std::string tag = network + "/" + containerId + "/" + ifPart;
    if (tag.size() <= 120) return tag;
    // nft comments are limited to 128 bytes: keep the network readable, hash the rest (FNV-1a).
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : tag)
        h = (h ^ c) * 1099511628211ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return network.substr(0, 100) + "/#" + buf;
}

std::string networkPrefix(const std::string& network) {
    return network + "/";
}

const std::vector<std::string>& allSets() {
    static const std::vector<std::string> sets = {
        "masq4", "masq6",   "nomasq4", "nomasq6", "pm4",    "pm4ip", "pm6",
        "pm6ip", "pmsnat4", "pmsnat6", "pmc4",    "pmc4ip", "pmc6",  "pmc6ip"};
    return sets;
}

Status ensureTable() {
    // A failed `create table` costs the kernel a transaction abort (7-18 ms here, nat chains
    // being registered and unregistered): ask first, create only when missing.
    if (TRY(net::nftTableExists(NFPROTO_INET, kTableName))) return {};
    auto nft = TRY(net::Nft::open());
    auto st = nft.run(std::string(kSetup) + kHostportsRules + kSetupTail,
                      "create nftables table inet tether");
    if (!st && st.error().errnum == EEXIST) return {};
    return st;
}

Status upgradeTable() {
    auto nft = TRY(net::Nft::open());
    auto st = nft.run(std::string(kUpgrade) + kHostportsRules,
                      "add port mapping conditions to table inet tether");
    if (!st && st.error().errnum == EEXIST) return {};
    return st;
}

std::string markSetName(int bit, net::Family family) {
    return std::string(family == net::Family::V4 ? "pmmk4-" : "pmmk6-") + std::to_string(bit);
}

Status ensureMarkObjects(int bit) {
    char value[16];
    std::snprintf(value, sizeof value, "0x%08x", 1u << unsigned(bit));
    const std::string v4 = markSetName(bit, net::Family::V4);
    const std::string v6 = markSetName(bit, net::Family::V6);
    std::string text = std::string("add set inet tether ") + kMarkBits + " { type mark; }\n" +
                       "add chain inet tether markpre { type filter hook prerouting priority -99; "
                       "policy accept; }\n"
                       "add chain inet tether markout { type route hook output priority -99; "
                       "policy accept; }\n"
                       "create set inet tether " +
                       v4 + " { type ipv4_addr . ipv4_addr; flags interval; }\n" +
                       "add set inet tether " + v6 +
                       " { type ipv6_addr . ipv6_addr; flags interval; }\n";
    for (const char* chain : {"markpre", "markout"}) {
        text += std::string("add rule inet tether ") + chain +
                " ct state new ct status dnat ip saddr . ip daddr @" + v4 +
                " meta mark set meta mark | " + value + "\n";
        text += std::string("add rule inet tether ") + chain +
                " ct state new ct status dnat ip6 saddr . ip6 daddr @" + v6 +
                " meta mark set meta mark | " + value + "\n";
    }
    text += std::string("add element inet tether ") + kMarkBits + " { " + value + " }\n";
    TRY(ensureTable());
    auto nft = TRY(net::Nft::open());
    auto st = nft.run(text, "add the objects of markMasqBit " + std::to_string(bit) +
                                " to table inet tether");
    if (!st && st.error().errnum == EEXIST) return {};
    return st;
}

Expected<std::vector<Element>> listElements(const std::vector<std::string>& sets) {
    std::vector<Element> out;
    for (const auto& name : sets) {
        auto elems = net::listSetElements(NFPROTO_INET, kTableName, name);
        if (!elems) {
            if (elems.error().errnum == ENOENT) return out; // table not created yet
            return std::unexpected(elems.error());
        }
        for (auto& e : *elems)
            out.push_back(std::move(e));
    }
    return out;
}

Expected<std::vector<Element>> ownedElements(const std::vector<std::string>& sets,
                                             const std::string& owner) {
    auto all = TRY(listElements(sets));
    std::vector<Element> mine;
    for (auto& e : all)
        if (e.comment == owner) mine.push_back(std::move(e));
    return mine;
}

Status commit(const net::SetChanges& changes, std::string_view what) {
    return net::commitSetElements(NFPROTO_INET, kTableName, changes, what);
}

Status removeOwned(const std::vector<std::string>& sets, const std::string& owner,
                   const std::vector<Element>& expected, std::string_view what) {
    if (!expected.empty()) {
        auto found = net::getSetElements(NFPROTO_INET, kTableName, expected);
        if (!found && found.error().errnum == ENOENT) return {}; // no table: nothing of ours
        bool allOwned = found && found->size() == expected.size();
        for (size_t i = 0; allOwned && i < found->size(); ++i)
            allOwned = (*found)[i].comment == owner;
        // Deleted by the keys as ADD made them (an interval element by its start and end).
        if (allOwned && commit({.del = expected}, what)) return {};
    }
    return commit({.del = TRY(ownedElements(sets, owner))}, what);
}

} // namespace tether::nat
