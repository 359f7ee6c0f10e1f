// Internal to the iptables backend: building one iptables-restore script from a view of the nat
// table (chain declarations, rule deletions, chain flushes and removals, appends — in that
// order), and the pieces every feature shares: chain names, the shared chains and jumps,
// removing an owner, applying a change to both families.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "nat/ipt.hpp"
#include "nat/ipt_nat.hpp"

namespace tether::nat::ipt {

inline constexpr const char* kPostrouting = "TETHER-POSTROUTING";
inline constexpr const char* kHostports = "TETHER-HOSTPORTS";
/// The reference portmap's shared mark chains (same names and rules, so both plugins share them).
inline constexpr const char* kSetMark = "CNI-HOSTPORT-SETMARK";
inline constexpr const char* kMarkMasq = "CNI-HOSTPORT-MASQ";

/// The mark and mask of `bit` as the reference writes and iptables-save prints them:
/// "0x2000/0x2000" for 13.
std::string markText(int bit);

/// `"<text>"` for a restore line (our tags hold no quotes or backslashes; escaped anyway).
std::string quote(const std::string& text);
/// "-m comment --comment \"<owner>\"".
std::string commentMatch(const std::string& owner);
/// 16 hex digits of FNV-1a 64 over the owner tag.
std::string ownerHash(const std::string& owner);

/// The changes to one family's nat table, planned against `table` (a save taken under Lock).
class Script {
  public:
    explicit Script(const NatTable& table) : table_(table) {}
    /// Creates `chain`, or flushes it when it exists (iptables-restore --noflush semantics).
    void declare(const std::string& chain);
    /// Deletes rule `index` of the table (once, however often asked).
    void removeRule(size_t index);
    /// Deletes an existing chain with its rules (after the rule deletions; all its rules go).
    void dropChain(const std::string& chain);
    /// Appends "-A <chain> <spec>".
    void append(const std::string& chain, const std::string& spec);
    /// Inserts "-I <chain> 1 <spec>" (in order with the appends).
    void insertFirst(const std::string& chain, const std::string& spec);
    /// Creates the shared chain `kPostrouting` (and with `hostports`, `kHostports`) and their
    /// jumps from the built-in chains, where missing.
    void ensureShared(bool hostports);
    /// Deletes the owner's jumps from the shared chains to its `kind` chains; with `dropChains`,
    /// also those chains (else they are left to be re-declared).
    void removeOwner(Kind kind, const std::string& owner, bool dropChains);
    /// Drops the shared chains (and their jumps) that this script leaves without rules, and the
    /// mark chains when nothing jumps to them any more (dropUnusedMark).
    void dropUnusedShared();
    /// The reference's mark chains for `bit`, each piece only where missing: kSetMark with its
    /// `-j MARK --set-xmark <markText(bit)>` rule, kMarkMasq with `-m mark --mark <markText(bit)>
    /// -j MASQUERADE`, and POSTROUTING's jump to kMarkMasq as its first rule. Rules of other bits
    /// are left as they are.
    void ensureMark(int bit);
    /// Drops kSetMark and kMarkMasq (and every jump to them) when no rule that this script leaves
    /// — ours or anyone's, e.g. the reference plugin's — jumps to kSetMark.
    void dropUnusedMark();
    [[nodiscard]] const NatTable& table() const { return table_; }
    /// The restore body ("" when nothing changes).
    [[nodiscard]] std::string text() const;

  private:
    [[nodiscard]] size_t remaining(const std::string& chain) const;
    /// Whether a rule left by this script (kept or appended) jumps to `chain`.
    [[nodiscard]] bool referenced(const std::string& chain) const;
    /// Whether rule `index` of the table survives this script (not deleted, its chain neither
    /// dropped nor re-declared).
    [[nodiscard]] bool kept(size_t index) const;
    const NatTable& table_;
    std::vector<std::string> declare_, drop_, append_;
    std::set<size_t> removed_;
    std::set<std::string> dropped_, declared_;
};

/// The owners (comments starting with "<network>/") of `kind` objects in `table`.
std::set<std::string> ownersOf(const NatTable& table, Kind kind, const std::string& network);

/// ADD for one owner: under one Lock, saves every family of `families`, plans each with `plan`
/// (which may refuse, e.g. a conflict: then nothing is changed), then restores each. When a
/// later family fails, the owner's `kind` objects are removed again from the earlier ones.
Status applyAll(Kind kind, const std::string& owner, const std::vector<net::Family>& families,
                const std::function<Status(Script&, net::Family)>& plan, std::string_view what);

} // namespace tether::nat::ipt
