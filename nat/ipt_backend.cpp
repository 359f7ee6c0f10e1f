// The iptables implementation of NatBackend: each operation is one of ipt_nat.hpp's (which
// builds the iptables-restore scripts and runs them), and backendFor() picks a backend.
#include "nat/element_store.hpp"
#include "nat/ipt_nat.hpp"
#include "nat/nat_backend.hpp"
#include "nat/nft_backend.hpp"

namespace tether::nat {

namespace {

class IptBackend final : public NatBackend {
  public:
    Status addMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) override {
        return ipt::addMasq(owner, ips);
    }
    Status removeMasq(const std::string& owner, const std::vector<net::IpPrefix>&) override {
        return ipt::remove(ipt::Kind::Masq, owner);
    }
    Status checkMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) override {
        return ipt::checkMasq(owner, ips);
    }
    Status gcMasq(const std::string& network, const std::vector<std::string>& keep) override {
        return ipt::gc(ipt::Kind::Masq, network, keep);
    }
    Status addPortmap(const std::string& owner, const PortmapRequest& req) override {
        return ipt::addPortmap(owner, req.spec);
    }
    Status refuseTaken(const std::string& owner, const PortmapRequest& req) override {
        return ipt::refuseTaken(owner, req.spec);
    }
    Status removePortmap(const std::string& owner, const PortmapRequest&) override {
        return ipt::remove(ipt::Kind::Portmap, owner);
    }
    Status checkPortmap(const std::string& owner, const PortmapRequest& req) override {
        return ipt::checkPortmap(owner, req.spec);
    }
    Status gcPortmap(const std::string& network, const std::vector<std::string>& keep,
                     const ConditionSets&) override {
        return ipt::gc(ipt::Kind::Portmap, network, keep);
    }
};

} // namespace

NatBackend& backendFor(Backend kind) {
    static NftBackend nft(kernelStore());
    static IptBackend ipt;
    if (kind == Backend::Iptables) return ipt;
    return nft;
}

} // namespace tether::nat
