#include "plugins/bridge/spoofcheck.hpp"

#include <linux/netfilter.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "libnet/nft.hpp"

namespace tether::bridge {

namespace {

constexpr const char* kTable = "bridge nat";

// Chain names must stay well below nftables' limit and use only identifier characters, so the
// attachment key is hashed (FNV-1a, 64 bit).
std::string ifaceChain(const SpoofCheck& sc) {
    uint64_t h = 1469598103934665603ull;
    for (char ch : sc.containerId + "/" + sc.ifname) {
        h ^= uint8_t(ch);
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return std::string("cni-br-iface-") + buf;
}

std::string comment(const SpoofCheck& sc) {
    return "macspoofchk-" + sc.containerId + "-" + sc.ifname;
}

// Handles of the base-chain rules carrying this attachment's comment.
Expected<std::vector<uint64_t>> jumpRuleHandles(net::Nft& nft, const SpoofCheck& sc) {
    std::vector<uint64_t> out;
    auto text = TRY(nft.listJson(std::string("list chain ") + kTable + " PREROUTING",
                                 "list macspoofchk rules"));
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.contains("nftables")) return out;
    const std::string want = comment(sc);
    for (const auto& item : doc["nftables"]) {
        auto it = item.find("rule");
        if (it == item.end()) continue;
        if (it->value("comment", "") == want && it->contains("handle"))
            out.push_back((*it)["handle"].get<uint64_t>());
    }
    return out;
}

} // namespace

Status setupSpoofCheck(const SpoofCheck& sc) {
    auto nft = TRY(net::Nft::open());
    const std::string t = kTable, ch = ifaceChain(sc), mac = ch + "-mac";
    std::string s;
    s += "add table " + t + "\n";
    s += "add chain " + t +
         " PREROUTING { type filter hook prerouting priority -300; policy accept; }\n";
    s += "add chain " + t + " " + ch + "\n";
    s += "add chain " + t + " " + mac + "\n";
    s += "flush chain " + t + " " + ch + "\n";
    s += "flush chain " + t + " " + mac + "\n";
    s += "add rule " + t + " PREROUTING iifname \"" + sc.hostVeth + "\" jump " + ch +
         " comment \"" + comment(sc) + "\"\n";
    s += "add rule " + t + " " + ch + " jump " + mac + "\n";
    s += "add rule " + t + " " + mac + " ether saddr " + sc.mac + " return\n";
    s += "add rule " + t + " " + mac + " drop\n";
    return nft.run(s, "macspoofchk setup for " + sc.hostVeth);
}

Status teardownSpoofCheck(const SpoofCheck& sc) {
    if (!TRY(net::nftTableExists(NFPROTO_BRIDGE, "nat"))) return {};
    auto nft = TRY(net::Nft::open());
    auto handles = jumpRuleHandles(nft, sc);
    if (!handles) {
        if (handles.error().errnum == ENOENT) return {};
        return std::unexpected(handles.error());
    }
    const std::string t = kTable, ch = ifaceChain(sc), mac = ch + "-mac";
    std::string s;
    for (uint64_t h : *handles)
        s += "delete rule " + t + " PREROUTING handle " + std::to_string(h) + "\n";
    if (!s.empty()) TRY(nft.run(s, "remove macspoofchk rule of " + sc.containerId));
    // The chains go in a second transaction so a missing one (ENOENT) does not undo the rules.
    for (const auto& name : {ch, mac}) {
        auto st = nft.run("flush chain " + t + " " + name + "\ndelete chain " + t + " " + name,
                          "remove macspoofchk chain " + name);
        if (!st && st.error().errnum != ENOENT) return st;
    }
    return {};
}

} // namespace tether::bridge
