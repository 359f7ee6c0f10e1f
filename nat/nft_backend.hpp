// The nftables NAT backend: table inet tether's elements (docs/nftables.md) planned from the
// request and committed to an ElementStore — the kernel (kernelStore) in the plugins, the
// in-memory fake (MemoryStore) in tests/unit/test_nat_plan.cpp.
#pragma once

#include "nat/element_store.hpp"
#include "nat/nat_backend.hpp"

namespace tether::nat {

/// The elements ADD makes for masquerading `ips`: each address in masq4/masq6, and
/// address . own subnet (an interval) in nomasq4/nomasq6, owned by `owner`.
std::vector<net::SetElem> masqElements(const std::vector<net::IpPrefix>& ips,
                                       const std::string& owner);

/// The key of a mapping for `family` in pm4/pm6 ([hostIP] pm4ip/pm6ip): [hostIP .] proto . port.
net::SetElem mappingKey(const ipt::PortMap& m, net::Family family);

/// What ADD installs for `req`: the mappings in `create` (must be new), SNAT entries, mark
/// entries (spec.markMasqBit with snat: source range . container address in the bit's mark set,
/// for hairpin and, IPv4 without masqAll, 127.0.0.1) and condition keys in `add` (shared keys
/// are fine). Nothing in `del`.
net::SetChanges portmapPlan(const PortmapRequest& req, const std::string& owner);

/// Every set that holds port mapping elements: ours and `cond`'s.
std::vector<std::string> portmapSets(const ConditionSets& cond);

class NftBackend final : public NatBackend {
  public:
    explicit NftBackend(ElementStore& store) : store_(store) {}
    Status addMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) override;
    Status removeMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) override;
    Status checkMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) override;
    Status gcMasq(const std::string& network, const std::vector<std::string>& keep) override;
    Status addPortmap(const std::string& owner, const PortmapRequest& req) override;
    Status refuseTaken(const std::string& owner, const PortmapRequest& req) override;
    Status removePortmap(const std::string& owner, const PortmapRequest& known) override;
    Status checkPortmap(const std::string& owner, const PortmapRequest& req) override;
    Status gcPortmap(const std::string& network, const std::vector<std::string>& keep,
                     const ConditionSets& cond) override;

  private:
    /// Deletes the elements `expected` when every one is there and owned by `owner` (one GET per
    /// key and one commit); false when not (nothing deleted then, or a failed commit).
    bool removedByKey(const std::string& owner, const std::vector<net::SetElem>& expected,
                      std::string_view what);
    /// Deletes `owner`'s elements of `sets`: by the keys of `expected` when every one is there
    /// and owned by `owner`, else by listing the sets (nat::removeOwned's rule) and `optional`.
    Status removeOwned(const std::vector<std::string>& sets, const std::string& owner,
                       const std::vector<net::SetElem>& expected, std::string_view what,
                       const std::vector<std::string>& optional = {});
    /// Deletes the elements of `sets` and `optional` tagged "<network>/..." whose owner is not in
    /// `keep`.
    Status sweep(const std::vector<std::string>& sets, const std::string& network,
                 const std::vector<std::string>& keep, std::string_view what,
                 const std::vector<std::string>& optional = {});
    /// Every element of `sets` (listed as ElementStore::list does) and of `optional`, sets that
    /// may not exist (each listed on its own, a missing one being empty).
    Expected<std::vector<net::SetElem>> listWith(const std::vector<std::string>& sets,
                                                 const std::vector<std::string>& optional);
    /// The mark sets that may hold port mapping elements: those of `bit` (-1: none) and of every
    /// bit registered in kMarkBits.
    Expected<std::vector<std::string>> markSets(int bit);
    /// The conflict error for a mapping of `req` held by another owner than `owner` ("" : any).
    Status taken(const PortmapRequest& req, const std::string& owner, const Error* original);
    /// Whether `owner` holds a SNAT-after-DNAT element for one of the request's addresses (an
    /// earlier ADD of the same attachment). No table: false.
    Expected<bool> hasOwnElements(const PortmapRequest& req, const std::string& owner);
    ElementStore& store_;
};

} // namespace tether::nat
