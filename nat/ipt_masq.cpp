// The iptables backend's masquerade (layout in ipt_nat.hpp).
#include "nat/ipt_nat.hpp"
#include "nat/ipt_script.hpp"

namespace tether::nat::ipt {

namespace {

std::vector<net::Family> familiesOf(const std::vector<net::IpPrefix>& ips) {
    std::vector<net::Family> out;
    for (auto f : {net::Family::V4, net::Family::V6})
        for (const auto& p : ips)
            if (p.family() == f) {
                out.push_back(f);
                break;
            }
    return out;
}

std::string hostPrefix(const net::IpAddress& a) {
    return a.str() + "/" + std::to_string(a.bits());
}

} // namespace

Status addMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) {
    const std::string chain = ownedChains(Kind::Masq, owner)[0];
    const std::string cm = commentMatch(owner);
    auto plan = [&](Script& s, net::Family f) -> Status {
        s.removeOwner(Kind::Masq, owner, false);
        s.ensureShared(false);
        s.declare(chain); // created, or flushed when it exists
        s.append(chain, std::string("-d ") + (f == net::Family::V4 ? "224.0.0.0/4" : "ff00::/8") +
                            " " + cm + " -j RETURN");
        s.append(chain, cm + " -j MASQUERADE");
        for (const auto& p : ips)
            if (p.family() == f)
                s.append(kPostrouting, "-s " + hostPrefix(p.address()) + " ! -d " +
                                           p.masked().str() + " " + cm + " -j " + chain);
        return {};
    };
    return applyAll(Kind::Masq, owner, familiesOf(ips), plan,
                    "add iptables masquerade for " + owner);
}

Status checkMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips) {
    const std::string chain = ownedChains(Kind::Masq, owner)[0];
    for (auto f : familiesOf(ips)) {
        auto table = TRY(save(f));
        bool hooked = false;
        for (const auto& r : table.rules)
            hooked = hooked || (r.chain == "POSTROUTING" && r.target == kPostrouting);
        for (const auto& p : ips) {
            if (p.family() != f) continue;
            bool found = false;
            for (const auto& r : table.rules) {
                if (r.chain != kPostrouting || r.target != chain || r.comment != owner) continue;
                auto src = net::IpPrefix::parse(r.option("-s"));
                found = found || (src && src->address() == p.address());
            }
            if (!found || !hooked || !table.hasChain(chain))
                return fail(Code::Internal, "masquerade rule for " + p.address().str() + " (" +
                                                owner + ") missing from the iptables nat table");
        }
    }
    return {};
}

} // namespace tether::nat::ipt
