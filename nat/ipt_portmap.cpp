// The iptables backend's port mappings (layout in ipt_nat.hpp).
#include <algorithm>
#include <cerrno>
#include <map>

#include "nat/ipt_nat.hpp"
#include "nat/ipt_script.hpp"

namespace tether::nat::ipt {

namespace {

std::string hostPrefix(const net::IpAddress& a) {
    return a.str() + "/" + std::to_string(a.bits());
}

bool applies(const PortMap& m, net::Family f) {
    return (!m.hostIP || m.hostIP->family() == f) && (!m.family || *m.family == f);
}

std::string joined(const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& t : tokens)
        out.append(t).append(" ");
    return out;
}

/// (family, container address) pairs that have at least one mapping.
std::vector<std::pair<net::Family, net::IpPrefix>> targets(const PortmapSpec& spec) {
    std::vector<std::pair<net::Family, net::IpPrefix>> out;
    for (auto f : {net::Family::V4, net::Family::V6})
        for (const auto& ip : spec.ips) {
            if (ip.family() != f) continue;
            bool any = false;
            for (const auto& m : spec.mappings)
                any = any || applies(m, f);
            if (any) out.emplace_back(f, ip);
            break;
        }
    return out;
}

/// Whether DNAT rule `r` maps the same [hostIP:]hostPort/protocol as `m`.
bool sameHostPort(const Rule& r, const PortMap& m) {
    if (r.target != "DNAT" || r.option("-p") != m.protocol ||
        r.option("--dport") != std::to_string(m.hostPort))
        return false;
    auto dst = net::IpPrefix::parse(r.option("-d"));
    if (!m.hostIP) return !dst;
    return dst && dst->address() == *m.hostIP;
}

/// Code 102 for the first mapping of `spec` (in family f) that a DNAT rule of another owner maps.
Status refuseConflicts(const NatTable& table, net::Family f, const std::string& owner,
                       const PortmapSpec& spec) {
    for (const Rule& r : table.rules) {
        if (!r.chain.starts_with("TETHER-DN-") || r.comment == owner) continue;
        for (const auto& m : spec.mappings)
            if (applies(m, f) && sameHostPort(r, m))
                return std::unexpected(
                    Error{Code::Conflict,
                          "host port " + m.text() + " is already mapped by " + r.comment,
                          {},
                          EEXIST});
    }
    return {};
}

std::string dnatRule(const PortMap& m, const net::IpAddress& ip, const std::string& cm) {
    std::string dest = ip.str();
    if (!ip.isV4()) dest = std::string(1, '[').append(dest).append(1, ']');
    return (m.hostIP ? "-d " + hostPrefix(*m.hostIP) + " " : std::string()) + "-p " + m.protocol +
           " -m " + m.protocol + " --dport " + std::to_string(m.hostPort) + " " + cm +
           " -j DNAT --to-destination " + dest + ":" + std::to_string(m.containerPort);
}

} // namespace

std::string PortMap::text() const {
    return (hostIP ? hostIP->str() + ":" : std::string()) + std::to_string(hostPort) + "/" +
           protocol + " -> " + std::to_string(containerPort);
}

Status addPortmap(const std::string& owner, const PortmapSpec& spec) {
    const auto chains = ownedChains(Kind::Portmap, owner);
    const std::string& dn = chains[0];
    const std::string& sn = chains[1];
    const std::string cm = commentMatch(owner);
    auto tgts = targets(spec);
    std::vector<net::Family> families;
    families.reserve(tgts.size());
    for (const auto& t : tgts)
        families.push_back(t.first);
    auto plan = [&](Script& s, net::Family f) -> Status {
        net::IpPrefix ip;
        for (const auto& t : tgts)
            if (t.first == f) ip = t.second;
        TRY(refuseConflicts(s.table(), f, owner, spec));
        s.removeOwner(Kind::Portmap, owner, false);
        s.ensureShared(true);
        s.declare(dn);
        // Who marks hairpin and localhost connections for masquerade: the external chain, or
        // the reference's CNI-HOSTPORT-SETMARK with our bit (snat only, as the reference).
        const bool ownMark =
            spec.externalSetMarkChain.empty() && spec.markMasqBit >= 0 && spec.snat;
        const std::string markChain = ownMark ? std::string(kSetMark) : spec.externalSetMarkChain;
        if (ownMark) s.ensureMark(spec.markMasqBit);
        std::map<std::string, std::vector<int>> ports; // protocol -> host ports, for the jumps
        for (const auto& m : spec.mappings) {
            if (!applies(m, f)) continue;
            if (!markChain.empty()) {
                // Marked before the DNAT: hairpin and localhost (masqAll: every connection).
                std::string match =
                    (m.hostIP ? "-d " + hostPrefix(*m.hostIP) + " " : std::string()) + "-p " +
                    m.protocol + " -m " + m.protocol + " --dport " + std::to_string(m.hostPort) +
                    " " + cm + " -j " + markChain;
                if (spec.masqAll) {
                    s.append(dn, match);
                } else {
                    if (spec.snat) s.append(dn, "-s " + ip.masked().str() + " " + match);
                    if (f == net::Family::V4) s.append(dn, "-s 127.0.0.1/32 " + match);
                }
            }
            s.append(dn, dnatRule(m, ip.address(), cm));
            auto& list = ports[m.protocol];
            bool seen = false;
            for (int p : list)
                seen = seen || p == m.hostPort;
            if (!seen) list.push_back(m.hostPort);
        }
        for (const auto& [proto, list] : ports)
            for (size_t i = 0; i < list.size(); i += 15) { // multiport takes up to 15 ports
                std::string csv;
                for (size_t j = i; j < list.size() && j < i + 15; ++j)
                    csv.append(csv.empty() ? "" : ",").append(std::to_string(list[j]));
                s.append(kHostports,
                         "-p " + proto + " -m multiport --dports " + csv + " " +
                             joined(f == net::Family::V4 ? spec.conditions4 : spec.conditions6) +
                             cm + " -j " + dn);
            }
        // SNAT after DNAT: hairpin (own subnet) or everything (masqAll); the host's 127.0.0.1.
        // With a mark chain (external, or CNI-HOSTPORT-SETMARK) the marks decide instead.
        std::vector<std::string> snat;
        if (markChain.empty()) {
            if (spec.masqAll)
                snat.push_back(cm + " -j MASQUERADE");
            else if (spec.snat)
                snat.push_back("-s " + ip.masked().str() + " " + cm + " -j MASQUERADE");
            if (f == net::Family::V4 && !spec.masqAll)
                snat.push_back("-s 127.0.0.0/8 " + cm + " -j MASQUERADE");
        }
        s.dropUnusedMark(); // a repeated ADD without the mark may leave them unused
        if (snat.empty()) {
            s.dropChain(sn);
            return {};
        }
        s.declare(sn);
        for (const auto& rule : snat)
            s.append(sn, rule);
        s.append(kPostrouting, "-d " + hostPrefix(ip.address()) + " -m conntrack --ctstate DNAT " +
                                   cm + " -j " + sn);
        return {};
    };
    return applyAll(Kind::Portmap, owner, families, plan,
                    "add iptables port mappings for " + owner);
}

Status refuseTaken(const std::string& owner, const PortmapSpec& spec) {
    auto tgts = targets(spec);
    if (tgts.empty()) return {};
    auto present = familiesWith({kHostports});
    for (const auto& [f, ip] : tgts) {
        if (std::find(present.begin(), present.end(), f) == present.end()) continue;
        auto table = TRY(save(f));
        TRY(refuseConflicts(table, f, owner, spec));
    }
    return {};
}

Status checkPortmap(const std::string& owner, const PortmapSpec& spec) {
    const std::string dn = ownedChains(Kind::Portmap, owner)[0];
    for (const auto& [f, ip] : targets(spec)) {
        auto table = TRY(save(f));
        bool jump = false;
        for (const auto& r : table.rules)
            jump = jump || (r.chain == kHostports && r.target == dn && r.comment == owner);
        for (const auto& m : spec.mappings) {
            if (!applies(m, f)) continue;
            bool found = false;
            for (const auto& r : table.rules)
                found = found || (r.chain == dn && r.comment == owner && sameHostPort(r, m));
            if (!found || !jump)
                return fail(Code::Internal,
                            "port mapping " + m.text() + " of " + owner + " is missing");
        }
        if (!spec.externalSetMarkChain.empty() || spec.markMasqBit < 0 || !spec.snat) continue;
        const std::string mt = markText(spec.markMasqBit);
        bool marks = false, masq = false, entry = false;
        for (const auto& r : table.rules) {
            marks = marks ||
                    (r.chain == kSetMark && r.target == "MARK" && r.option("--set-xmark") == mt);
            masq = masq ||
                   (r.chain == kMarkMasq && r.target == "MASQUERADE" && r.option("--mark") == mt);
            entry = entry || (r.chain == "POSTROUTING" && r.target == kMarkMasq);
        }
        if (!marks || !masq || !entry)
            return fail(Code::Internal, std::string(kSetMark) + "/" + kMarkMasq +
                                            " do not mark and masquerade markMasqBit " +
                                            std::to_string(spec.markMasqBit) + " (" + mt + ")");
    }
    return {};
}

} // namespace tether::nat::ipt
