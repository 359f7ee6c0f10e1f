#include "nat/masq.hpp"

#include <linux/netfilter.h>

#include "libnet/nft_set.hpp"
#include "nat/backend.hpp"
#include "nat/ipt_nat.hpp"
#include "nat/nat_table.hpp"

namespace tether::nat {

namespace {

const std::vector<std::string> kMasqSets = {"masq4", "masq6", "nomasq4", "nomasq6"};

} // namespace

namespace {

/// The attachment's elements for `ips`: its address in masq4/6, and address . own subnet in
/// nomasq4/6 (a concatenated range: address . network .. address . last).
std::vector<Element> masqElements(const std::vector<net::IpPrefix>& ips, const std::string& owner) {
    std::vector<Element> out;
    for (const auto& p : ips) {
        std::string fam = p.family() == net::Family::V4 ? "4" : "6";
        out.push_back({.set = "masq" + fam, .key = net::ConcatBuilder().addr(p.address()).bytes(), .comment = owner});
        out.push_back({.set = "nomasq" + fam,
                       .key = net::ConcatBuilder().addr(p.address()).addr(p.network()).bytes(),
                       .keyEnd = net::ConcatBuilder().addr(p.address()).addr(p.last()).bytes(),
                       .comment = owner});
    }
    return out;
}

} // namespace

Status setupMasq(const MasqSpec& spec) {
    const std::string owner = ownerTag(spec.network, spec.containerId, spec.ifname);
    if (TRY(resolveBackend(spec.backend, "ipMasqBackend")) == Backend::Iptables)
        return ipt::addMasq(owner, spec.ips);
    TRY(ensureTable());
    return commit({.add = masqElements(spec.ips, owner)}, "add masquerade for " + owner);
}

Status teardownMasq(const std::string& network, const std::string& containerId,
                    const std::string& ifname, const std::vector<net::IpPrefix>& ips) {
    // Both backends, whatever the config says now: it may have named the other one at ADD.
    const std::string owner = ownerTag(network, containerId, ifname);
    Status ipt = ipt::remove(ipt::Kind::Masq, owner);
    Status nft = removeOwned(kMasqSets, owner, masqElements(ips, owner), "remove masquerade of " + owner);
    return ipt ? nft : ipt;
}

Status checkMasq(const MasqSpec& spec) {
    const std::string owner = ownerTag(spec.network, spec.containerId, spec.ifname);
    if (TRY(resolveBackend(spec.backend, "ipMasqBackend")) == Backend::Iptables)
        return ipt::checkMasq(owner, spec.ips);
    for (const auto& p : spec.ips) {
        Element want{.set = p.family() == net::Family::V4 ? "masq4" : "masq6",
                     .key = net::ConcatBuilder().addr(p.address()).bytes()};
        auto have = TRY(net::getSetElements(NFPROTO_INET, kTableName, {want}));
        if (have.empty() || have[0].comment != owner)
            return fail(Code::Internal, "masquerade entry for " + p.address().str() + " (" + owner +
                                            ") missing from table inet tether");
    }
    return {};
}

Status gcMasq(const std::string& network,
              const std::vector<std::pair<std::string, std::string>>& valid) {
    std::vector<std::string> keep;
    for (const auto& [cid, ifname] : valid) keep.push_back(ownerTag(network, cid, ifname));
    TRY(ipt::gc(ipt::Kind::Masq, network, keep));
    auto all = TRY(listElements(kMasqSets));
    std::vector<Element> stale;
    for (auto& e : all) {
        if (!e.comment.starts_with(networkPrefix(network))) continue;
        bool isValid = false;
        for (const auto& k : keep) isValid = isValid || k == e.comment;
        if (!isValid) stale.push_back(std::move(e));
    }
    return commit({.del = std::move(stale)}, "gc masquerade of network " + network);
}

} // namespace tether::nat
