#include "nat/ipt_script.hpp"

#include <cstdint>
#include <cstdio>

namespace tether::nat::ipt {

namespace {

constexpr const char* kSharedComment = "tether: container NAT";
constexpr const char* kHostportsComment = "tether: host ports";

std::vector<std::string> kindPrefixes(Kind kind) {
    if (kind == Kind::Masq) return {"TETHER-MASQ-"};
    return {"TETHER-DN-", "TETHER-SN-"};
}

bool hasKindPrefix(Kind kind, const std::string& chain) {
    for (const auto& p : kindPrefixes(kind))
        if (chain.starts_with(p)) return true;
    return false;
}

} // namespace

std::string quote(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string markText(int bit) {
    char buf[32];
    const unsigned value = 1u << unsigned(bit);
    std::snprintf(buf, sizeof buf, "%#x/%#x", value, value);
    return buf;
}

std::string commentMatch(const std::string& owner) {
    return "-m comment --comment " + quote(owner);
}

std::string ownerHash(const std::string& owner) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : owner)
        h = (h ^ c) * 1099511628211ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

std::vector<std::string> ownedChains(Kind kind, const std::string& owner) {
    std::vector<std::string> out;
    for (const auto& p : kindPrefixes(kind))
        out.push_back(p + ownerHash(owner));
    return out;
}

void Script::declare(const std::string& chain) {
    if (declared_.insert(chain).second) declare_.push_back(chain);
}

void Script::removeRule(size_t index) {
    removed_.insert(index);
}

void Script::dropChain(const std::string& chain) {
    if (!table_.hasChain(chain) || !dropped_.insert(chain).second) return;
    drop_.push_back(chain);
    bool anyRemoved = false;
    for (size_t i : removed_)
        anyRemoved = anyRemoved || table_.rules[i].chain == chain;
    if (anyRemoved) // no -F then (see text()): delete the rest one by one
        for (size_t i = 0; i < table_.rules.size(); ++i)
            if (table_.rules[i].chain == chain) removeRule(i);
}

void Script::append(const std::string& chain, const std::string& spec) {
    append_.push_back("-A " + chain + " " + spec);
}

void Script::insertFirst(const std::string& chain, const std::string& spec) {
    append_.push_back("-I " + chain + " 1 " + spec);
}

bool Script::kept(size_t index) const {
    const Rule& r = table_.rules[index];
    return !removed_.count(index) && !dropped_.count(r.chain) && !declared_.count(r.chain);
}

bool Script::referenced(const std::string& chain) const {
    for (size_t i = 0; i < table_.rules.size(); ++i)
        if (table_.rules[i].target == chain && kept(i)) return true;
    const std::string jump = " -j " + chain;
    for (const auto& a : append_)
        if (a.ends_with(jump)) return true;
    return false;
}

void Script::ensureMark(int bit) {
    const std::string mt = markText(bit);
    auto has = [&](const std::string& chain, const std::string& target, const char* option) {
        for (size_t i = 0; i < table_.rules.size(); ++i) {
            const Rule& r = table_.rules[i];
            if (r.chain == chain && r.target == target && kept(i) &&
                (!option || r.option(option) == mt))
                return true;
        }
        return false;
    };
    if (!table_.hasChain(kSetMark)) declare(kSetMark);
    if (!has(kSetMark, "MARK", "--set-xmark"))
        append(kSetMark,
               commentMatch("CNI portfwd masquerade mark") + " -j MARK --set-xmark " + mt);
    if (!table_.hasChain(kMarkMasq)) declare(kMarkMasq);
    if (!has(kMarkMasq, "MASQUERADE", "--mark"))
        append(kMarkMasq, "-m mark --mark " + mt + " -j MASQUERADE");
    if (!has("POSTROUTING", kMarkMasq, nullptr))
        insertFirst("POSTROUTING",
                    commentMatch("CNI portfwd requiring masquerade") + " -j " + kMarkMasq);
}

void Script::dropUnusedMark() {
    if (!table_.hasChain(kSetMark) || declared_.count(kSetMark) || referenced(kSetMark)) return;
    for (size_t i = 0; i < table_.rules.size(); ++i)
        if (table_.rules[i].target == kMarkMasq && !dropped_.count(table_.rules[i].chain))
            removeRule(i);
    dropChain(kSetMark);
    dropChain(kMarkMasq);
}

void Script::ensureShared(bool hostports) {
    auto jumped = [&](const std::string& from, const std::string& to) {
        for (size_t i = 0; i < table_.rules.size(); ++i)
            if (table_.rules[i].chain == from && table_.rules[i].target == to && !removed_.count(i))
                return true;
        return false;
    };
    if (!table_.hasChain(kPostrouting)) declare(kPostrouting);
    if (!jumped("POSTROUTING", kPostrouting))
        append("POSTROUTING", commentMatch(kSharedComment) + " -j " + kPostrouting);
    if (!hostports) return;
    if (!table_.hasChain(kHostports)) declare(kHostports);
    for (const char* from : {"PREROUTING", "OUTPUT"})
        if (!jumped(from, kHostports))
            append(from, "-m addrtype --dst-type LOCAL " + commentMatch(kHostportsComment) +
                             " -j " + kHostports);
}

void Script::removeOwner(Kind kind, const std::string& owner, bool dropChains) {
    auto chains = ownedChains(kind, owner);
    for (size_t i = 0; i < table_.rules.size(); ++i)
        for (const auto& c : chains)
            if (table_.rules[i].target == c) removeRule(i);
    if (dropChains)
        for (const auto& c : chains)
            dropChain(c);
}

size_t Script::remaining(const std::string& chain) const {
    size_t n = 0;
    for (size_t i = 0; i < table_.rules.size(); ++i)
        if (table_.rules[i].chain == chain && !removed_.count(i)) ++n;
    for (const auto& a : append_)
        if (a.starts_with("-A " + chain + " ")) ++n;
    return n;
}

void Script::dropUnusedShared() {
    for (const char* chain : {kPostrouting, kHostports}) {
        if (!table_.hasChain(chain) || declared_.count(chain) || remaining(chain) != 0) continue;
        for (size_t i = 0; i < table_.rules.size(); ++i)
            if (table_.rules[i].target == chain) removeRule(i);
        dropChain(chain);
    }
    dropUnusedMark();
}

std::string Script::text() const {
    std::string out;
    for (const auto& c : declare_)
        out += ":" + c + " - [0:0]\n";
    for (size_t i : removed_)
        out += "-D " + table_.rules[i].chain + " " + table_.rules[i].spec + "\n";
    // A chain is emptied by -F unless some of its rules are deleted by -D already: then every rule
    // is (see dropChain). iptables-nft fails a batch that flushes a chain after deleting rules of
    // it ("CHAIN_DEL failed (Device or resource busy)" on an unrelated chain).
    for (const auto& c : drop_) {
        bool anyRemoved = false;
        for (size_t i : removed_)
            anyRemoved = anyRemoved || table_.rules[i].chain == c;
        if (!anyRemoved) out += "-F " + c + "\n";
    }
    for (const auto& c : drop_)
        out += "-X " + c + "\n";
    for (const auto& a : append_)
        out += a + "\n";
    return out;
}

std::set<std::string> ownersOf(const NatTable& table, Kind kind, const std::string& network) {
    std::set<std::string> out;
    const std::string prefix = network + "/";
    for (const auto& r : table.rules)
        if (r.comment.starts_with(prefix) &&
            (hasKindPrefix(kind, r.chain) || hasKindPrefix(kind, r.target)))
            out.insert(r.comment);
    return out;
}

Status remove(Kind kind, const std::string& owner) {
    auto families = familiesWith(ownedChains(kind, owner));
    if (families.empty()) return {};
    auto lock = TRY(Lock::acquire());
    for (auto f : families) {
        auto table = TRY(save(f));
        Script s(table);
        s.removeOwner(kind, owner, true);
        s.dropUnusedShared();
        TRY(restore(f, s.text(), "remove iptables rules of " + owner));
    }
    return {};
}

Status applyAll(Kind kind, const std::string& owner, const std::vector<net::Family>& families,
                const std::function<Status(Script&, net::Family)>& plan, std::string_view what) {
    if (families.empty()) return {};
    auto lock = TRY(Lock::acquire());
    std::vector<NatTable> tables;
    tables.reserve(families.size());
    for (auto f : families)
        tables.push_back(TRY(save(f)));
    std::vector<std::string> bodies;
    for (size_t i = 0; i < families.size(); ++i) {
        Script s(tables[i]);
        TRY(plan(s, families[i]));
        bodies.push_back(s.text());
    }
    for (size_t i = 0; i < families.size(); ++i) {
        auto st = restore(families[i], bodies[i], what);
        if (st) continue;
        for (size_t j = 0; j < i; ++j) { // undo the families already changed
            auto again = save(families[j]);
            if (!again) continue;
            Script undo(*again);
            undo.removeOwner(kind, owner, true);
            undo.dropUnusedShared();
            (void)restore(families[j], undo.text(), what);
        }
        return st;
    }
    return {};
}

Status gc(Kind kind, const std::string& network, const std::vector<std::string>& keep) {
    auto families = familiesWith({kPostrouting, kHostports});
    if (families.empty()) return {};
    auto lock = TRY(Lock::acquire());
    for (auto f : families) {
        auto table = TRY(save(f));
        Script s(table);
        for (const auto& owner : ownersOf(table, kind, network)) {
            bool valid = false;
            for (const auto& k : keep)
                valid = valid || k == owner;
            if (!valid) s.removeOwner(kind, owner, true);
        }
        s.dropUnusedShared();
        TRY(restore(f, s.text(), "gc iptables rules of network " + network));
    }
    return {};
}

} // namespace tether::nat::ipt
