#include "plugins/common/nat_table.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include <linux/netfilter.h>

#include <nlohmann/json.hpp>

namespace tether::nat {

using nlohmann::json;

namespace {

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
add chain inet tether hostports
add rule inet tether hostports meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport map @pm4ip
add rule inet tether hostports meta nfproto ipv4 dnat ip to meta l4proto . th dport map @pm4
add rule inet tether hostports meta nfproto ipv6 dnat ip6 to ip6 daddr . meta l4proto . th dport map @pm6ip
add rule inet tether hostports meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @pm6
add chain inet tether prerouting { type nat hook prerouting priority -100; policy accept; }
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

// An nft JSON value (element key or data) back to nft syntax.
std::string toNft(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return std::to_string(v.get<long long>());
    if (v.is_object()) {
        if (v.contains("concat")) {
            std::string s;
            for (const auto& p : v["concat"]) s += (s.empty() ? "" : " . ") + toNft(p);
            return s;
        }
        if (v.contains("prefix"))
            return toNft(v["prefix"]["addr"]) + "/" + std::to_string(v["prefix"]["len"].get<int>());
        if (v.contains("range")) return toNft(v["range"][0]) + "-" + toNft(v["range"][1]);
        if (v.contains("elem")) return toNft(v["elem"]["val"]);
    }
    return v.dump();
}

} // namespace

std::string ownerTag(const std::string& network, const std::string& containerId,
                     const std::string& ifname) {
    std::string ifPart;
    bool safe = true;
    for (char c : ifname) safe = safe && safeChar(c);
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
    for (unsigned char c : tag) h = (h ^ c) * 1099511628211ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return network.substr(0, 100) + "/#" + buf;
}

std::string networkPrefix(const std::string& network) { return network + "/"; }

const std::vector<std::string>& allSets() {
    static const std::vector<std::string> sets = {"masq4", "masq6", "nomasq4", "nomasq6", "pm4",
                                                  "pm4ip", "pm6",   "pm6ip",   "pmsnat4", "pmsnat6"};
    return sets;
}

Status ensureTable(net::Nft& nft) {
    // A failed `create table` costs the kernel a transaction abort (7-18 ms here, nat chains
    // being registered and unregistered): ask first, create only when missing.
    if (TRY(net::nftTableExists(NFPROTO_INET, "tether"))) return {};
    auto st = nft.run(kSetup, "create nftables table inet tether");
    if (!st && st.error().errnum == EEXIST) return {};
    return st;
}

Expected<std::vector<Element>> listElements(net::Nft& nft, const std::vector<std::string>& sets) {
    std::vector<Element> out;
    for (const auto& name : sets) {
        bool isMap = name.rfind("pm", 0) == 0 && name.find("snat") == std::string::npos;
        auto text = nft.listJson(std::string(isMap ? "list map " : "list set ") + kTable + " " + name,
                                 "list " + name);
        if (!text) {
            if (text.error().errnum == ENOENT) return out; // table not created yet
            return std::unexpected(text.error());
        }
        json j = json::parse(*text, nullptr, false);
        if (!j.is_object()) continue;
        for (const auto& item : j.value("nftables", json::array())) {
            const json* obj = item.contains("set") ? &item["set"] : item.contains("map") ? &item["map"] : nullptr;
            if (!obj || !obj->contains("elem")) continue;
            for (const auto& e : (*obj)["elem"]) {
                Element el{.set = name};
                const json& key = e.is_array() ? e[0] : e;
                if (e.is_array()) el.value = toNft(e[1]);
                if (key.is_object() && key.contains("elem")) {
                    el.key = toNft(key["elem"]["val"]);
                    el.owner = key["elem"].value("comment", "");
                } else {
                    el.key = toNft(key);
                }
                out.push_back(std::move(el));
            }
        }
    }
    return out;
}

Status deleteElements(net::Nft& nft, const std::vector<Element>& elements, std::string_view what) {
    if (elements.empty()) return {};
    std::string script;
    for (const auto& e : elements)
        script += "delete element " + std::string(kTable) + " " + e.set + " { " + e.key + " }\n";
    TRY(nft.run(script, what));
    nft.releaseInBackground();
    return {};
}

} // namespace tether::nat
