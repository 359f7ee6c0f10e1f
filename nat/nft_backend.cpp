#include "nat/nft_backend.hpp"

#include <bit>
#include <cerrno>
#include <cstring>
#include <set>

#include <netinet/in.h>

#include "nat/nat_table.hpp"

namespace tether::nat {

using net::Family;
using net::IpPrefix;
using net::SetElem;

namespace {

const std::vector<std::string> kMasqSets = {"masq4", "masq6", "nomasq4", "nomasq6"};
const std::vector<std::string> kPortSets = {"pm4",     "pm4ip", "pm6",    "pm6ip", "pmsnat4",
                                            "pmsnat6", "pmc4",  "pmc4ip", "pmc6",  "pmc6ip"};

bool applies(const ipt::PortMap& m, Family f) {
    return !m.family || *m.family == f;
}

uint8_t protoNumber(const std::string& proto) {
    return proto == "udp" ? IPPROTO_UDP : proto == "sctp" ? IPPROTO_SCTP : IPPROTO_TCP;
}

/// Whether ADD marks hairpin/localhost connections with spec.markMasqBit (as the reference's
/// iptables backend: only with snat).
bool marked(const ipt::PortmapSpec& c) {
    return c.markMasqBit >= 0 && c.snat && c.externalSetMarkChain.empty();
}

SetElem rangeElem(const std::string& set, const IpPrefix& src, const net::IpAddress& dst,
                  const std::string& owner) {
    return {.set = set,
            .key = net::ConcatBuilder().addr(src.network()).addr(dst).bytes(),
            .keyEnd = net::ConcatBuilder().addr(src.last()).addr(dst).bytes(),
            .comment = owner};
}

bool kept(const std::vector<std::string>& keep, const std::string& owner) {
    for (const auto& k : keep)
        if (k == owner) return true;
    return false;
}

} // namespace

std::vector<std::string> ConditionSets::names() const {
    std::vector<std::string> out;
    for (const auto* s : {&set4, &set4ip, &set6, &set6ip})
        if (!s->empty()) out.push_back(*s);
    return out;
}

std::vector<SetElem> masqElements(const std::vector<IpPrefix>& ips, const std::string& owner) {
    std::vector<SetElem> out;
    for (const auto& p : ips) {
        std::string fam = p.family() == Family::V4 ? "4" : "6";
        out.push_back({.set = "masq" + fam,
                       .key = net::ConcatBuilder().addr(p.address()).bytes(),
                       .comment = owner});
        out.push_back({.set = "nomasq" + fam,
                       .key = net::ConcatBuilder().addr(p.address()).addr(p.network()).bytes(),
                       .keyEnd = net::ConcatBuilder().addr(p.address()).addr(p.last()).bytes(),
                       .comment = owner});
    }
    return out;
}

SetElem mappingKey(const ipt::PortMap& m, Family family) {
    net::ConcatBuilder key;
    if (m.hostIP) key.addr(*m.hostIP);
    key.proto(protoNumber(m.protocol)).port(uint16_t(m.hostPort));
    std::string fam = family == Family::V4 ? "4" : "6";
    return {.set = "pm" + fam + (m.hostIP ? "ip" : ""), .key = key.bytes()};
}

net::SetChanges portmapPlan(const PortmapRequest& req, const std::string& owner) {
    const ipt::PortmapSpec& c = req.spec;
    const ConditionSets& cond = req.cond;
    net::SetChanges p;
    for (const auto& ip : c.ips) {
        const bool v4 = ip.family() == Family::V4;
        const bool conditioned = !(v4 ? cond.set4 : cond.set6).empty();
        bool mapped = false;
        for (const auto& m : c.mappings) {
            if (!applies(m, ip.family())) continue;
            mapped = true;
            SetElem e = mappingKey(m, ip.family());
            if (conditioned) {
                // The key in the config's own condition set, and in pmc4/pmc6[ip] (which
                // sends the mapping through the condition chain: docs/nftables.md).
                const std::string& own =
                    m.hostIP ? (v4 ? cond.set4ip : cond.set6ip) : (v4 ? cond.set4 : cond.set6);
                p.add.push_back({.set = own, .key = e.key, .comment = owner});
                p.add.push_back({.set = "pmc" + e.set.substr(2), .key = e.key, .comment = owner});
            }
            e.data =
                net::ConcatBuilder().addr(ip.address()).port(uint16_t(m.containerPort)).bytes();
            e.comment = owner;
            p.create.push_back(std::move(e));
        }
        if (!mapped) continue;
        // Source range . container address: hairpin (own subnet) or everything (masqAll).
        const IpPrefix src = c.masqAll ? IpPrefix(ip.address(), 0).masked() : ip.masked();
        if (c.snat || c.masqAll)
            p.add.push_back(
                rangeElem(std::string("pmsnat") + (v4 ? "4" : "6"), src, ip.address(), owner));
        if (!marked(c)) continue;
        // The same connections, and the host's 127.0.0.1, get the mark (docs/nftables.md).
        const std::string set = markSetName(c.markMasqBit, ip.family());
        p.add.push_back(rangeElem(set, src, ip.address(), owner));
        if (v4 && !c.masqAll)
            p.add.push_back(
                rangeElem(set, IpPrefix(net::IpAddress::v4(0x7f000001), 32), ip.address(), owner));
    }
    return p;
}

std::vector<std::string> portmapSets(const ConditionSets& cond) {
    std::vector<std::string> sets = kPortSets;
    for (auto& s : cond.names())
        sets.push_back(std::move(s));
    return sets;
}

Expected<std::vector<SetElem>> NftBackend::listWith(const std::vector<std::string>& sets,
                                                    const std::vector<std::string>& optional) {
    auto out = TRY(store_.list(sets));
    for (const auto& s : optional)
        for (auto& e : TRY(store_.list({s})))
            out.push_back(std::move(e));
    return out;
}

Expected<std::vector<std::string>> NftBackend::markSets(int bit) {
    std::set<int> bits;
    if (bit >= 0) bits.insert(bit);
    for (const auto& e : TRY(store_.list({kMarkBits}))) {
        uint32_t value = 0;
        if (e.key.size() != sizeof value) continue;
        std::memcpy(&value, e.key.data(), sizeof value); // type mark: host byte order
        if (value != 0 && std::has_single_bit(value)) bits.insert(std::countr_zero(value));
    }
    std::vector<std::string> out;
    for (int b : bits)
        for (auto f : {Family::V4, Family::V6})
            out.push_back(markSetName(b, f));
    return out;
}

bool NftBackend::removedByKey(const std::string& owner, const std::vector<SetElem>& expected,
                              std::string_view what) {
    if (expected.empty()) return false;
    // ENOENT: no table (the listing then finds nothing) or a set of `expected` missing (a table
    // older than the mark sets): the caller lists.
    auto found = store_.get(expected);
    bool allOwned = found && found->size() == expected.size();
    for (size_t i = 0; allOwned && i < found->size(); ++i)
        allOwned = (*found)[i].comment == owner;
    // Deleted by the keys as ADD made them (an interval element by its start and end).
    return allOwned && store_.commit({.del = expected}, what);
}

Status NftBackend::removeOwned(const std::vector<std::string>& sets, const std::string& owner,
                               const std::vector<SetElem>& expected, std::string_view what,
                               const std::vector<std::string>& optional) {
    if (removedByKey(owner, expected, what)) return {};
    // By listing. An element that vanishes between the listing and the commit (ENOENT: another
    // process's commit changed the set meanwhile) is retried with a fresh listing.
    Status st;
    for (int attempt = 0; attempt < 3; ++attempt) {
        std::vector<SetElem> mine;
        for (auto& e : TRY(listWith(sets, optional)))
            if (e.comment == owner) mine.push_back(std::move(e));
        if (mine.empty()) return {};
        st = store_.commit({.del = std::move(mine)}, what);
        if (st || st.error().errnum != ENOENT) return st;
    }
    return st;
}

Status NftBackend::sweep(const std::vector<std::string>& sets, const std::string& network,
                         const std::vector<std::string>& keep, std::string_view what,
                         const std::vector<std::string>& optional) {
    std::vector<SetElem> stale;
    for (auto& e : TRY(listWith(sets, optional)))
        if (e.comment.starts_with(networkPrefix(network)) && !kept(keep, e.comment))
            stale.push_back(std::move(e));
    return store_.commit({.del = std::move(stale)}, what);
}

Status NftBackend::addMasq(const std::string& owner, const std::vector<IpPrefix>& ips) {
    TRY(store_.ensure());
    return store_.commit({.add = masqElements(ips, owner)}, "add masquerade for " + owner);
}

Status NftBackend::removeMasq(const std::string& owner, const std::vector<IpPrefix>& ips) {
    return removeOwned(kMasqSets, owner, masqElements(ips, owner), "remove masquerade of " + owner);
}

Status NftBackend::checkMasq(const std::string& owner, const std::vector<IpPrefix>& ips) {
    for (const auto& p : ips) {
        SetElem want{.set = p.family() == Family::V4 ? "masq4" : "masq6",
                     .key = net::ConcatBuilder().addr(p.address()).bytes()};
        auto have = TRY(store_.get({want}));
        if (have.empty() || have[0].comment != owner)
            return fail(Code::Internal, "masquerade entry for " + p.address().str() + " (" + owner +
                                            ") missing from table inet tether");
    }
    return {};
}

Status NftBackend::gcMasq(const std::string& network, const std::vector<std::string>& keep) {
    return sweep(kMasqSets, network, keep, "gc masquerade of network " + network);
}

Status NftBackend::taken(const PortmapRequest& req, const std::string& owner,
                         const Error* original) {
    for (const auto& ip : req.spec.ips)
        for (const auto& m : req.spec.mappings) {
            if (!applies(m, ip.family())) continue;
            auto have = store_.get({mappingKey(m, ip.family())});
            if (have && !have->empty() && (*have)[0].comment != owner)
                return std::unexpected(
                    Error{Code::Conflict,
                          "host port " + m.text() + " is already mapped by " + (*have)[0].comment,
                          original ? original->details : std::string(), EEXIST});
        }
    if (original) return std::unexpected(*original);
    return {};
}

Status NftBackend::refuseTaken(const std::string& owner, const PortmapRequest& req) {
    return taken(req, owner, nullptr);
}

Expected<bool> NftBackend::hasOwnElements(const PortmapRequest& req, const std::string& owner) {
    std::vector<SetElem> keys;
    for (const auto& ip : req.spec.ips)
        for (const IpPrefix& src : {ip.masked(), IpPrefix(ip.address(), 0).masked()})
            keys.push_back(
                {.set = std::string("pmsnat") + (ip.family() == Family::V4 ? "4" : "6"),
                 .key = net::ConcatBuilder().addr(src.network()).addr(ip.address()).bytes(),
                 .keyEnd = net::ConcatBuilder().addr(src.last()).addr(ip.address()).bytes()});
    auto held = store_.get(keys);
    if (!held)
        return held.error().errnum == ENOENT ? Expected<bool>(false)
                                             : std::unexpected(held.error());
    for (const auto& e : *held)
        if (e.comment == owner) return true;
    return false;
}

Status NftBackend::addPortmap(const std::string& owner, const PortmapRequest& req) {
    TRY(store_.ensure());
    net::SetChanges changes = portmapPlan(req, owner);
    const std::string what = "add port mappings for " + owner;
    // A repeated ADD of the attachment, maybe with other mappings: everything it had goes in
    // the same transaction. Found by its SNAT-after-DNAT keys (a few lookups, whatever the
    // number of containers); an earlier ADD that made no such key (neither snat nor masqAll) is
    // only found through a mapping it shares with this one, by the EEXIST below.
    const int bit = marked(req.spec) ? req.spec.markMasqBit : -1;
    if (TRY(hasOwnElements(req, owner))) {
        const auto marks = TRY(markSets(bit));
        for (auto& e : TRY(listWith(portmapSets(req.cond), marks)))
            if (e.comment == owner) changes.del.push_back(std::move(e));
    }
    auto st = store_.commit(changes, what);
    if (!st && st.error().errnum == ENOENT && (req.createConditions || req.createMark)) {
        if (req.createConditions) TRY(req.createConditions());
        if (req.createMark && bit >= 0) TRY(req.createMark());
        st = store_.commit(changes, what);
    }
    if (!st && st.error().errnum == EEXIST) {
        // Held by this attachment only (a repeated ADD): replace everything it had, in the same
        // transaction. Held by another owner: the conflict, nothing changed.
        auto held = TRY(store_.get(changes.create));
        for (const auto& e : held)
            if (e.comment != owner) return taken(req, owner, &st.error());
        const auto marks = TRY(markSets(bit));
        for (auto& e : TRY(listWith(portmapSets(req.cond), marks)))
            if (e.comment == owner) changes.del.push_back(std::move(e));
        st = store_.commit(changes, what);
    }
    if (!st && st.error().errnum == EEXIST) return taken(req, owner, &st.error());
    return st;
}

Status NftBackend::removePortmap(const std::string& owner, const PortmapRequest& known) {
    net::SetChanges p = portmapPlan(known, owner);
    std::vector<SetElem> expected = std::move(p.create);
    expected.insert(expected.end(), p.add.begin(), p.add.end());
    const int bit = marked(known.spec) ? known.spec.markMasqBit : -1;
    // The mark sets are only listed when the keys do not describe what is installed.
    const std::string what = "remove port mappings of " + owner;
    if (removedByKey(owner, expected, what)) return {};
    return removeOwned(portmapSets(known.cond), owner, {}, what, TRY(markSets(bit)));
}

Status NftBackend::checkPortmap(const std::string& owner, const PortmapRequest& req) {
    for (const auto& ip : req.spec.ips)
        for (const auto& m : req.spec.mappings) {
            if (!applies(m, ip.family())) continue;
            auto have = TRY(store_.get({mappingKey(m, ip.family())}));
            if (have.empty() || have[0].comment != owner)
                return fail(Code::Internal,
                            "port mapping " + m.text() + " of " + owner + " is missing");
        }
    if (!marked(req.spec)) return {};
    for (const auto& e : portmapPlan(req, owner).add) {
        if (!e.set.starts_with("pmmk")) continue;
        auto have = store_.get({e});
        if (!have || have->empty() || (*have)[0].comment != owner)
            return fail(Code::Internal, "mark entry of " + owner + " for markMasqBit " +
                                            std::to_string(req.spec.markMasqBit) +
                                            " missing from " + e.set + " of table inet tether");
    }
    return {};
}

Status NftBackend::gcPortmap(const std::string& network, const std::vector<std::string>& keep,
                             const ConditionSets& cond) {
    return sweep(portmapSets(cond), network, keep, "gc port mappings of network " + network,
                 TRY(markSets(-1)));
}

} // namespace tether::nat
