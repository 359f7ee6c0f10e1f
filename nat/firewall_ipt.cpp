#include "nat/firewall_ipt.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <functional>
#include <set>

#include <fcntl.h>
#include <unistd.h>

#include "nat/ipt.hpp"
#include "nat/ipt_probe.hpp"
#include "nat/ipt_script.hpp"
#include "nat/nat_table.hpp"
#include "nat/tool_exec.hpp"

namespace tether::nat::fw {

namespace {

using net::Family;
using Table = ipt::NatTable; // a parsed save of one table; see save()

constexpr const char* kRulesComment = "CNI firewall plugin rules";
constexpr const char* kAdminComment = "CNI firewall plugin admin overrides";
constexpr const char* kIsoComment = "CNI firewall plugin rules (ingressPolicy: same-bridge)";

const char* tool(Family f, bool restore) {
    if (f == Family::V4) return restore ? "iptables-restore" : "iptables-save";
    return restore ? "ip6tables-restore" : "ip6tables-save";
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

// `iptables-save -t filter`, parsed with the nat backend's parser (it reads the `*nat` section,
// so the one section of this save is renamed to that first).
Expected<Table> save(Family f) {
    auto path = findTool(tool(f, false));
    if (!path)
        return fail(Code::NotAvailable,
                    std::string(tool(f, false)) + " not found: iptables is not installed");
    auto r = TRY(runTool(*path, {"-t", "filter"}, ""));
    if (r.exitCode != 0)
        return fail(Code::Kernel,
                    std::string(tool(f, false)) + " -t filter failed (exit " +
                        std::to_string(r.exitCode) + ")",
                    trimmed(r.err));
    std::string text = r.out;
    if (auto at = text.find("*filter\n"); at != std::string::npos) text.replace(at, 8, "*nat\n");
    return ipt::parseSave(text);
}

Status restore(Family f, const std::string& body, const std::string& what) {
    if (body.empty()) return {};
    auto path = findTool(tool(f, true));
    if (!path)
        return fail(Code::NotAvailable,
                    what + ": " + tool(f, true) + " not found: iptables is not installed");
    auto r = TRY(runTool(*path, {"--wait", "--noflush"}, "*filter\n" + body + "COMMIT\n"));
    if (r.exitCode != 0)
        return fail(Code::Kernel,
                    what + ": " + tool(f, true) + " failed (exit " + std::to_string(r.exitCode) +
                        ")",
                    trimmed(r.err));
    return {};
}

std::string host(const net::IpAddress& ip) {
    return ip.str() + (ip.isV4() ? "/32" : "/128");
}
std::string comment(const std::string& c) {
    return ipt::commentMatch(c);
}

bool hasRule(const Table& t, const std::string& chain, const std::string& target,
             const std::string& cmt) {
    for (const auto& r : t.rules)
        if (r.chain == chain && r.target == target && r.comment == cmt) return true;
    return false;
}

// The per-attachment rules of `a` in `f`, each as "<-A|-I chain N> spec".
std::vector<std::string> ownedLines(const Attachment& a, const IptOptions& o, Family f) {
    std::vector<std::string> out;
    const std::string c = comment(a.owner);
    for (const auto& ip : a.ips) {
        if (ip.family() != f) continue;
        out.push_back("-A CNI-FORWARD -d " + host(ip) +
                      " -m conntrack --ctstate RELATED,ESTABLISHED " + c + " -j ACCEPT");
        out.push_back("-A CNI-FORWARD -s " + host(ip) + " " + c + " -j ACCEPT");
        if (!o.isolation) continue;
        // Another container's new connection: STAGE-2 decides whether its destination allows it.
        out.push_back("-I " + std::string(kStage1) + " 1 -s " + host(ip) +
                      " -m conntrack ! --ctstate RELATED,ESTABLISHED " + c + " -j " + kStage2);
        if (a.policy == Policy::Open) continue;
        out.push_back("-I " + std::string(kStage2) + " 1 -d " + host(ip) + " " + c + " -j DROP");
        if (a.policy == Policy::SameBridge) // inserted above the DROP: its own bridge may
            out.push_back("-I " + std::string(kStage2) + " 1 -d " + host(ip) + " -i " + a.bridge +
                          " " + c + " -j RETURN");
    }
    return out;
}

// The script adding `a` to one family's filter table `t`.
std::string addScript(const Table& t, const Attachment& a, const IptOptions& o, Family f) {
    std::string decl, del, body;
    auto declare = [&](const std::string& chain) {
        if (t.hasChain(chain)) return false;
        decl += ":" + chain + " - [0:0]\n";
        return true;
    };
    declare(kForwardChain);
    declare(o.adminChain);
    for (const auto& r : t.rules) // a re-ADD replaces the owner's rules
        if (r.comment == a.owner) del += "-D " + r.chain + " " + r.spec + "\n";
    if (!hasRule(t, "FORWARD", kForwardChain, kRulesComment))
        body += "-I FORWARD 1 " + comment(kRulesComment) + " -j CNI-FORWARD\n";
    if (!hasRule(t, kForwardChain, o.adminChain, kAdminComment))
        body += "-I CNI-FORWARD 1 " + comment(kAdminComment) + " -j " + o.adminChain + "\n";
    if (o.isolation) {
        if (declare(kStage1))
            body += "-A " + std::string(kStage1) + " " + comment(kIsoComment) + " -j RETURN\n";
        if (declare(kStage2))
            body += "-A " + std::string(kStage2) + " " + comment(kIsoComment) + " -j RETURN\n";
        if (!hasRule(t, "FORWARD", kStage1, kIsoComment)) // before CNI-FORWARD, as the reference
            body += "-I FORWARD 1 " + comment(kIsoComment) + " -j " + kStage1 + "\n";
    }
    for (const auto& l : ownedLines(a, o, f))
        body += l + "\n";
    return decl + del + body;
}

// Whether `r` is one of the fixed rules we put in chain `chain` (not an attachment's, not an
// admin's or the reference plugin's per-address rule).
bool isFixed(const ipt::Rule& r) {
    return r.comment == kAdminComment || (r.comment == kIsoComment && r.target == "RETURN");
}

// The script deleting the rules of every owner in `owners`, and our chains they leave empty.
std::string removeScript(const Table& t, const std::set<std::string>& owners) {
    std::string del, drop;
    std::set<size_t> gone;
    for (size_t i = 0; i < t.rules.size(); ++i)
        if (owners.count(t.rules[i].comment)) gone.insert(i);
    if (gone.empty()) return {};
    auto leftInChain = [&](const std::string& chain) {
        size_t n = 0;
        for (size_t i = 0; i < t.rules.size(); ++i)
            if (t.rules[i].chain == chain && !gone.count(i) && !isFixed(t.rules[i])) ++n;
        return n;
    };
    std::vector<std::string> dropped;
    auto isDropped = [&](const std::string& c) {
        return std::find(dropped.begin(), dropped.end(), c) != dropped.end();
    };
    for (const char* chain : {kStage1, kStage2, kForwardChain}) {
        if (!t.hasChain(chain) || leftInChain(chain) != 0) continue;
        if (chain == std::string(kStage2) && !isDropped(kStage1)) continue; // STAGE-1 jumps to it
        // iptables-nft refuses -F after -D of the same chain in one batch: delete rule by rule.
        for (size_t i = 0; i < t.rules.size(); ++i) {
            const auto& r = t.rules[i];
            if (r.chain == chain || (r.chain == "FORWARD" && r.target == chain)) gone.insert(i);
        }
        dropped.push_back(chain);
    }
    // An admin chain that CNI-FORWARD jumped to goes too when it is empty and nothing else jumps.
    for (const auto& r : t.rules) {
        if (r.chain != kForwardChain || r.comment != kAdminComment || !t.hasChain(r.target))
            continue;
        if (!isDropped(kForwardChain)) continue;
        bool used = false;
        for (size_t i = 0; i < t.rules.size(); ++i)
            used = used || ((t.rules[i].chain == r.target || t.rules[i].target == r.target) &&
                            !gone.count(i));
        if (!used) dropped.push_back(r.target);
    }
    for (size_t i : gone)
        del += "-D " + t.rules[i].chain + " " + t.rules[i].spec + "\n";
    for (const auto& c : dropped)
        drop += "-X " + c + "\n";
    return del + drop;
}

// Whether the legacy x_tables filter table of `f` is instantiated and iptables is not -nft.
bool legacyFilter(Family f) {
    int fd = ::open(f == Family::V4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names",
                    O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[512];
    std::string names = "\n";
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        names.append(buf, size_t(n));
    ::close(fd);
    if (names.find("\nfilter\n") == std::string::npos) return false;
    auto path = findTool(tool(f, true));
    if (!path) return false;
    char real[PATH_MAX];
    std::string impl = ::realpath(path->c_str(), real) ? std::string(real) : *path;
    return impl.substr(impl.rfind('/') + 1).find("nft") == std::string::npos;
}

std::vector<Family> familiesWithChains(const std::vector<std::string>& chains) {
    std::vector<Family> out, nft;
    for (auto f : {Family::V4, Family::V6})
        (legacyFilter(f) ? out : nft).push_back(f);
    for (auto f : ipt::nftFamiliesWithChains(nft, "filter", chains))
        out.push_back(f);
    if (out.size() == 2 && out[0] == Family::V6) std::swap(out[0], out[1]);
    return out;
}

// Runs `script(table, family)` for each family under the lock: save, plan, restore.
Status forFamilies(const std::vector<Family>& families,
                   const std::function<std::string(const Table&, Family)>& script,
                   const std::string& what) {
    if (families.empty()) return {};
    auto lock = TRY(ipt::Lock::acquire());
    for (auto f : families) {
        auto t = TRY(save(f));
        TRY(restore(f, script(t, f), what));
    }
    return {};
}

} // namespace

std::vector<Family> foreignForwardFamilies() {
    return familiesWithChains({"FORWARD"});
}

Status iptAdd(const Attachment& a, const IptOptions& o, std::vector<Family> families) {
    if (families.empty()) families = {Family::V4, Family::V6};
    std::vector<Family> used;
    for (auto f : families) {
        bool any = false;
        for (const auto& ip : a.ips)
            any = any || ip.family() == f;
        if (any) used.push_back(f);
    }
    if (used.empty()) return {};
    auto lock = TRY(ipt::Lock::acquire());
    const std::string what = "add iptables firewall rules of " + a.owner;
    for (size_t i = 0; i < used.size(); ++i) {
        Status st = [&]() -> Status {
            auto t = TRY(save(used[i]));
            return restore(used[i], addScript(t, a, o, used[i]), what);
        }();
        if (st) continue;
        for (size_t j = 0; j < i; ++j) // roll back the families done already
            if (auto t = save(used[j])) (void)restore(used[j], removeScript(*t, {a.owner}), what);
        return st;
    }
    return {};
}

Status iptRemove(const std::string& owner) {
    return forFamilies(
        familiesWithChains({kForwardChain, kStage1}),
        [&](const Table& t, Family) { return removeScript(t, {owner}); },
        "remove iptables firewall rules of " + owner);
}

Status iptGc(const std::string& network, const std::vector<std::string>& keep) {
    return forFamilies(
        familiesWithChains({kForwardChain, kStage1}),
        [&](const Table& t, Family) {
            std::set<std::string> stale;
            for (const auto& r : t.rules)
                if (r.comment.starts_with(networkPrefix(network)) &&
                    std::find(keep.begin(), keep.end(), r.comment) == keep.end())
                    stale.insert(r.comment);
            return removeScript(t, stale);
        },
        "gc iptables firewall rules of network " + network);
}

Status iptCheck(const Attachment& a, const IptOptions& o) {
    for (auto f : {Family::V4, Family::V6}) {
        auto lines = ownedLines(a, o, f);
        if (lines.empty()) continue;
        auto t = TRY(save(f));
        auto missing = [&](const std::string& what) {
            return fail(Code::Internal, std::string(tool(f, false)) + ": " + what + " not found");
        };
        if (!hasRule(t, "FORWARD", kForwardChain, kRulesComment))
            return missing("FORWARD jump to CNI-FORWARD");
        if (!hasRule(t, kForwardChain, o.adminChain, kAdminComment))
            return missing("CNI-FORWARD jump to " + o.adminChain);
        if (o.isolation && !hasRule(t, "FORWARD", kStage1, kIsoComment))
            return missing(std::string("FORWARD jump to ") + kStage1);
        for (const auto& ip : a.ips) {
            if (ip.family() != f) continue;
            size_t n = 0, want = 2;
            if (o.isolation)
                want += a.policy == Policy::Open ? 1 : a.policy == Policy::SameBridge ? 3 : 2;
            for (const auto& r : t.rules)
                if (r.comment == a.owner &&
                    (r.option("-s") == host(ip) || r.option("-d") == host(ip)))
                    ++n;
            if (n < want) return missing("rule for " + host(ip) + " of " + a.owner);
        }
    }
    return {};
}

} // namespace tether::nat::fw
