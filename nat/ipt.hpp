// Access to the iptables `nat` table for the iptables NAT backend: read it with `iptables-save -t
// nat`, change it with ONE `iptables-restore --wait --noflush` per change (atomic: the whole script
// applies or nothing does), serialise our read-modify-write cycles with a lock file, and answer
// cheaply whether any of our chains may exist (so DEL of nftables-only setups execs nothing).
// IPv4 uses iptables-*, IPv6 ip6tables-*.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"

namespace tether::nat::ipt {

/// One rule of the nat table as iptables-save prints it (`-A <chain> <spec>`).
struct Rule {
    std::string chain;   ///< the chain holding the rule
    std::string spec;    ///< everything after "-A <chain> ", verbatim (usable for -D)
    std::string comment; ///< the --comment value, unquoted; "" when none
    std::string target;  ///< the -j / -g value
    /// The value following `option` in spec ("-d" -> "10.0.0.1/32"), "" when absent. Negated
    /// options (`! -d x`) are not returned.
    [[nodiscard]] std::string option(std::string_view option) const;
};

/// The nat table of one family: its user-defined chains and every rule in save order.
struct NatTable {
    std::set<std::string> chains;
    std::vector<Rule> rules;
    [[nodiscard]] bool hasChain(const std::string& name) const { return chains.count(name) != 0; }
};

/// Parses iptables-save output; only the `*nat` section is read. Unknown lines are skipped.
NatTable parseSave(const std::string& text);

/// `iptables-save -t nat` (ip6tables-save for V6), parsed. Code 50 when the tool is missing,
/// code 100 with its stderr when it fails.
Expected<NatTable> save(net::Family family);

/// Applies `body` (rule lines, without *nat / COMMIT) with one `iptables-restore --wait
/// --noflush` (ip6tables-restore for V6). Code 100 naming `what`, stderr in details, on failure;
/// nothing is changed then. An empty body runs nothing.
Status restore(net::Family family, const std::string& body, std::string_view what);

/// True when iptables-restore (ip6tables-restore) is installed.
bool available(net::Family family);

/// Cheap test, without exec'ing anything, in which nat tables (V4, V6) any of `chains` may
/// exist: nfnetlink GETCHAINs over one socket (iptables-nft keeps them as nftables chains of
/// table ip/ip6 nat), plus — only when the legacy x_tables nat table is instantiated
/// (/proc/net/ip{,6}_tables_names) and the installed iptables-restore is not iptables-nft — that
/// family as "maybe". A family is left out only when none of `chains` can exist there.
std::vector<net::Family> familiesWith(const std::vector<std::string>& chains);

/// An exclusive lock (flock on /run/tether/iptables.lock) held while reading the table, planning
/// and restoring, so two plugins never plan from the same stale view. Released on destruction.
class Lock {
  public:
    static Expected<Lock> acquire();
    Lock(Lock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    Lock& operator=(Lock&&) = delete;
    ~Lock();

  private:
    explicit Lock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

} // namespace tether::nat::ipt
