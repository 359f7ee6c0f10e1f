#include "plugins/common/masq.hpp"

#include "libnet/nft.hpp"
#include "plugins/common/nat_table.hpp"

namespace tether::nat {

namespace {

const std::vector<std::string> kMasqSets = {"masq4", "masq6", "nomasq4", "nomasq6"};

Status requireNftables(const std::string& backend) {
    if (backend.empty() || backend == "nftables") return {};
    return fail(Code::UnsupportedField, "unsupported ipMasqBackend \"" + backend +
                                            "\": this build masquerades with nftables only");
}

} // namespace

Status setupMasq(const MasqSpec& spec) {
    TRY(requireNftables(spec.backend));
    auto nft = TRY(net::Nft::open());
    TRY(ensureTable(nft));
    const std::string owner = ownerTag(spec.network, spec.containerId, spec.ifname);
    std::string script;
    for (const auto& p : spec.ips) {
        std::string fam = p.family() == net::Family::V4 ? "4" : "6";
        std::string comment = " comment \"" + owner + "\" }\n";
        script += "add element inet tether masq" + fam + " { " + p.address().str() + comment;
        script += "add element inet tether nomasq" + fam + " { " + p.address().str() + " . " +
                  p.masked().str() + comment;
    }
    if (script.empty()) return {};
    return nft.run(script, "add masquerade for " + owner);
}

Status teardownMasq(const std::string& network, const std::string& containerId,
                    const std::string& ifname) {
    auto nft = TRY(net::Nft::open());
    const std::string owner = ownerTag(network, containerId, ifname);
    auto all = TRY(listElements(nft, kMasqSets));
    std::vector<Element> mine;
    for (auto& e : all)
        if (e.owner == owner) mine.push_back(std::move(e));
    return deleteElements(nft, mine, "remove masquerade of " + owner);
}

Status checkMasq(const MasqSpec& spec) {
    auto nft = TRY(net::Nft::open());
    const std::string owner = ownerTag(spec.network, spec.containerId, spec.ifname);
    auto all = TRY(listElements(nft, kMasqSets));
    for (const auto& p : spec.ips) {
        std::string set = p.family() == net::Family::V4 ? "masq4" : "masq6";
        bool found = false;
        for (const auto& e : all) found = found || (e.set == set && e.key == p.address().str() && e.owner == owner);
        if (!found)
            return fail(Code::Internal, "masquerade entry for " + p.address().str() + " (" + owner +
                                            ") missing from table inet tether");
    }
    return {};
}

Status gcMasq(const std::string& network,
              const std::vector<std::pair<std::string, std::string>>& valid) {
    auto nft = TRY(net::Nft::open());
    auto all = TRY(listElements(nft, kMasqSets));
    std::vector<std::string> keep;
    for (const auto& [cid, ifname] : valid) keep.push_back(ownerTag(network, cid, ifname));
    std::vector<Element> stale;
    for (auto& e : all) {
        if (e.owner.rfind(networkPrefix(network), 0) != 0) continue;
        bool valid_ = false;
        for (const auto& k : keep) valid_ = valid_ || k == e.owner;
        if (!valid_) stale.push_back(std::move(e));
    }
    return deleteElements(nft, stale, "gc masquerade of network " + network);
}

} // namespace tether::nat
