#include "nat/masq.hpp"

#include "nat/backend.hpp"
#include "nat/nat_backend.hpp"
#include "nat/nat_table.hpp"

namespace tether::nat {

Status setupMasq(const MasqSpec& spec) {
    const std::string owner = ownerTag(spec.network, spec.containerId, spec.ifname);
    return backendFor(TRY(resolveBackend(spec.backend, "ipMasqBackend"))).addMasq(owner, spec.ips);
}

Status teardownMasq(const std::string& network, const std::string& containerId,
                    const std::string& ifname, const std::vector<net::IpPrefix>& ips) {
    // Both backends, whatever the config says now: it may have named the other one at ADD.
    const std::string owner = ownerTag(network, containerId, ifname);
    Status ipt = backendFor(Backend::Iptables).removeMasq(owner, ips);
    Status nft = backendFor(Backend::Nftables).removeMasq(owner, ips);
    return ipt ? nft : ipt;
}

Status checkMasq(const MasqSpec& spec) {
    const std::string owner = ownerTag(spec.network, spec.containerId, spec.ifname);
    return backendFor(TRY(resolveBackend(spec.backend, "ipMasqBackend")))
        .checkMasq(owner, spec.ips);
}

Status gcMasq(const std::string& network,
              const std::vector<std::pair<std::string, std::string>>& valid) {
    std::vector<std::string> keep;
    keep.reserve(valid.size());
    for (const auto& [cid, ifname] : valid)
        keep.push_back(ownerTag(network, cid, ifname));
    TRY(backendFor(Backend::Iptables).gcMasq(network, keep));
    return backendFor(Backend::Nftables).gcMasq(network, keep);
}

} // namespace tether::nat
