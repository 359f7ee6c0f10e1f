// One interface over the NAT backends: what the plugins ask of masquerade (bridge/veth ipMasq,
// masquerade) and port mappings (portmap), for one attachment identified by its owner tag
// (nat::ownerTag). Implemented by the nftables backend (planning in nft_backend.cpp over an
// ElementStore: the kernel's table inet tether, or the in-memory fake of the tests) and the
// iptables backend (ipt_backend.cpp over ipt_nat.hpp). See docs/architecture.md, "nat/".
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"
#include "nat/backend.hpp"
#include "nat/ipt_nat.hpp"

namespace tether::nat {

/// nftables: a portmap config's condition sets (plugins/portmap condObjects), "" for a family
/// without conditions.
struct ConditionSets {
    std::string set4, set4ip, set6, set6ip;
    [[nodiscard]] std::vector<std::string> names() const; ///< the non-empty ones
    [[nodiscard]] bool any() const { return !names().empty(); }
};

/// What one attachment's port mappings are, for either backend.
struct PortmapRequest {
    ipt::PortmapSpec spec; ///< container addresses, mappings, snat/masqAll, iptables conditions
    ConditionSets cond;    ///< nftables: where the mapping keys of a conditioned family go
    /// nftables: creates the condition chain and sets when the first commit finds one missing.
    std::function<Status()> createConditions;
    /// nftables: creates the objects of spec.markMasqBit (nat::ensureMarkObjects) when the first
    /// commit finds its mark set missing.
    std::function<Status()> createMark;
};

class NatBackend {
  public:
    virtual ~NatBackend() = default;

    /// Masquerade for the container addresses `ips` (with their subnet prefix); replaces nothing
    /// of another owner, is idempotent for the same owner.
    virtual Status addMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) = 0;
    /// Removes every masquerade object of `owner`; `ips` (from prevResult, may be empty) lets the
    /// backend find them by key. Missing is fine.
    virtual Status removeMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) = 0;
    /// CHECK: every address of `ips` is masqueraded for `owner`.
    virtual Status checkMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) = 0;
    /// GC: removes masquerade objects of `network`'s owners that are not in `keep` (owner tags).
    virtual Status gcMasq(const std::string& network, const std::vector<std::string>& keep) = 0;

    /// Installs the mappings for `owner`, all or nothing. A host port mapped by another owner is
    /// code 102 "host port <mapping> is already mapped by <owner>"; what `owner` had before is
    /// replaced (a repeated ADD).
    virtual Status addPortmap(const std::string& owner, const PortmapRequest& req) = 0;
    /// Code 102 when a mapping of `req` is held in this backend by another owner (asked of the
    /// backend not in use, so a host port is never mapped twice across backends).
    virtual Status refuseTaken(const std::string& owner, const PortmapRequest& req) = 0;
    /// Removes every port mapping object of `owner`. `known` is what DEL knows of the ADD (from
    /// prevResult and the config: possibly no addresses or mappings), used to find them by key
    /// and to know the config's condition sets. Missing is fine.
    virtual Status removePortmap(const std::string& owner, const PortmapRequest& known) = 0;
    /// CHECK: every mapping of `req` is installed and owned by `owner`.
    virtual Status checkPortmap(const std::string& owner, const PortmapRequest& req) = 0;
    /// GC: removes the port mappings of `network`'s owners not in `keep`; `cond`: the current
    /// config's condition sets, swept too.
    virtual Status gcPortmap(const std::string& network, const std::vector<std::string>& keep,
                             const ConditionSets& cond) = 0;
};

/// The process-wide backend of `kind`: nftables over kernelStore(), or iptables.
NatBackend& backendFor(Backend kind);

} // namespace tether::nat
