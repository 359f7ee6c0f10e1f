// conditionsV4/conditionsV6 with the nftables backend: per configuration (network name and
// conditions), one chain `pmc-<h>` jumped to from chain pmconds and four key sets
// pc4-<h>/pc4ip-<h>/pc6-<h>/pc6ip-<h>. A conditioned mapping adds its key to the config's set
// and to the global pmc4/pmc4ip/pmc6/pmc6ip (which the unconditioned hostports rules skip);
// the mapping itself stays in pm4/pm4ip/pm6/pm6ip, so conflicts are detected as before.
#include <cerrno>
#include <cstdio>

#include "libnet/nft.hpp"
#include "nat/nat_table.hpp"
#include "plugins/portmap/portmap.hpp"

namespace tether::portmap {

namespace {

std::string configHash(const Config& c, const std::string& network) {
    std::string text = network + "\n" + c.cond4.nft + "\n" + c.cond6.nft;
    uint64_t h = 1469598103934665603ull; // FNV-1a
    for (unsigned char ch : text)
        h = (h ^ ch) * 1099511628211ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

} // namespace

CondObjects condObjects(const Config& c, const std::string& network) {
    CondObjects o;
    if (c.cond4.nft.empty() && c.cond6.nft.empty()) return o;
    const std::string h = configHash(c, network);
    o.chain = "pmc-" + h;
    if (!c.cond4.nft.empty()) o.set4 = "pc4-" + h, o.set4ip = "pc4ip-" + h;
    if (!c.cond6.nft.empty()) o.set6 = "pc6-" + h, o.set6ip = "pc6ip-" + h;
    return o;
}

std::vector<std::string> CondObjects::sets() const {
    std::vector<std::string> out;
    for (const auto* s : {&set4, &set4ip, &set6, &set6ip})
        if (!s->empty()) out.push_back(*s);
    return out;
}

Status ensureCondObjects(const Config& c, const std::string& network) {
    const CondObjects o = condObjects(c, network);
    if (o.chain.empty()) return {};
    TRY(nat::upgradeTable());
    const std::string t = std::string("inet ") + nat::kTableName;
    std::string s = "create chain " + t + " " + o.chain + "\n";
    auto rules = [&](const std::string& set4, const std::string& set4ip, const std::string& nf,
                     const std::string& ipx, const std::string& cond, const std::string& fam) {
        if (set4.empty()) return;
        s += "add set " + t + " " + set4 + " { type inet_proto . inet_service; }\n";
        s += "add set " + t + " " + set4ip + " { type ipv" + fam +
             "_addr . inet_proto . inet_service; }\n";
        s += "add rule " + t + " " + o.chain + " meta nfproto " + nf + " " + ipx +
             " daddr . meta l4proto . th dport @" + set4ip + " " + cond + " dnat " + ipx + " to " +
             ipx + " daddr . meta l4proto . th dport map @pm" + fam + "ip\n";
        s += "add rule " + t + " " + o.chain + " meta nfproto " + nf +
             " meta l4proto . th dport @" + set4 + " " + cond + " dnat " + ipx +
             " to meta l4proto . th dport map @pm" + fam + "\n";
    };
    rules(o.set4, o.set4ip, "ipv4", "ip", c.cond4.nft, "4");
    rules(o.set6, o.set6ip, "ipv6", "ip6", c.cond6.nft, "6");
    s += "add rule " + t + " pmconds jump " + o.chain + "\n";
    auto nft = TRY(net::Nft::open());
    auto st = nft.run(s, "add the port mapping conditions of network " + network);
    if (!st && st.error().errnum == EEXIST) return {}; // made by an earlier or concurrent ADD
    return st;
}

} // namespace tether::portmap
