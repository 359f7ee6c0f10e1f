#include "plugins/portmap/portmap.hpp"
#include "base/fault_point.hpp"

#include <cerrno>

#include <netinet/in.h>
#include <unistd.h>

#include "libnet/conntrack.hpp"
#include <linux/netfilter.h>

#include "libnet/nft_set.hpp"
#include "libnet/sysctl.hpp"
#include "nat/ipt_nat.hpp"
#include "nat/nat_table.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::portmap {

using net::Family;
using net::IpPrefix;

namespace {

const std::vector<std::string> kPortSets = {"pm4",     "pm4ip", "pm6",    "pm6ip", "pmsnat4",
                                            "pmsnat6", "pmc4",  "pmc4ip", "pmc6",  "pmc6ip"};

// Every set that may hold the attachment's elements: ours, and the current config's condition
// sets (a config that does not parse: ours only).
std::vector<std::string> portSets(const Expected<Config>& c, const std::string& network) {
    std::vector<std::string> sets = kPortSets;
    if (c)
        for (auto& s : condObjects(*c, network).sets())
            sets.push_back(std::move(s));
    return sets;
}

// The container's first IPv4 and IPv6 address: IPs whose interface is CNI_IFNAME in a sandbox.
std::vector<IpPrefix> containerIps(const cni::CmdArgs& args, const cni::Result& prev) {
    std::vector<IpPrefix> out;
    bool have4 = false, have6 = false;
    for (const auto& ip : prev.ips) {
        if (!ip.interface || *ip.interface < 0 || size_t(*ip.interface) >= prev.interfaces.size())
            continue;
        const auto& itf = prev.interfaces[size_t(*ip.interface)];
        if (itf.name != args.ifname || itf.sandbox.empty()) continue;
        auto p = IpPrefix::parse(ip.address);
        if (!p) continue;
        bool& have = p->family() == Family::V4 ? have4 : have6;
        if (have) continue;
        have = true;
        out.push_back(*p);
    }
    return out;
}

uint8_t protoNumber(const std::string& proto) {
    return proto == "udp" ? IPPROTO_UDP : proto == "sctp" ? IPPROTO_SCTP : IPPROTO_TCP;
}

/// The map element key of a mapping: [hostIP .] proto . hostPort, in pm4/pm6 or pm4ip/pm6ip.
nat::Element mappingKey(const Mapping& m, Family family) {
    net::ConcatBuilder key;
    if (m.hostIP) key.addr(*m.hostIP);
    key.proto(protoNumber(m.protocol)).port(uint16_t(m.hostPort));
    std::string fam = family == Family::V4 ? "4" : "6";
    return {.set = "pm" + fam + (m.hostIP ? "ip" : ""), .key = key.bytes()};
}

/// What ADD installs: the mappings (must be new: another owner's host port is a conflict), the
/// SNAT entries (shared keys are fine) and, for a family with conditions, each mapping's key in
/// the config's condition set and in pmc4/pmc6[ip] (see nft_conditions.cpp).
net::SetChanges plan(const Config& c, const std::vector<IpPrefix>& ips, const std::string& owner,
                     const CondObjects& cond) {
    net::SetChanges p;
    for (const auto& ip : ips) {
        const bool v4 = ip.family() == Family::V4;
        const bool conditioned = !(v4 ? cond.set4 : cond.set6).empty();
        bool mapped = false;
        for (const auto& m : c.mappings) {
            if (!m.applies(ip.family())) continue;
            mapped = true;
            nat::Element e = mappingKey(m, ip.family());
            if (conditioned) {
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
        if (!mapped || !(c.snat || c.masqAll)) continue;
        // Source range . container address: hairpin (own subnet) or everything (masqAll).
        IpPrefix src = c.masqAll ? IpPrefix(ip.address(), 0).masked() : ip.masked();
        p.add.push_back({.set = std::string("pmsnat") + (v4 ? "4" : "6"),
                         .key = net::ConcatBuilder().addr(src.network()).addr(ip.address()).bytes(),
                         .keyEnd = net::ConcatBuilder().addr(src.last()).addr(ip.address()).bytes(),
                         .comment = owner});
    }
    return p;
}

// Removes the attachment's elements; with the mappings and prevResult of the DEL, found by key.
Status removeOwned(const cni::CmdArgs& args, const Expected<Config>& c, const std::string& owner) {
    std::vector<nat::Element> expected;
    if (c && args.conf.prevResult) {
        net::SetChanges p = plan(*c, containerIps(args, *args.conf.prevResult), owner,
                                 condObjects(*c, args.conf.name));
        expected = std::move(p.create);
        expected.insert(expected.end(), p.add.begin(), p.add.end());
    }
    return nat::removeOwned(portSets(c, args.conf.name), owner, expected,
                            "remove port mappings of " + owner);
}

// Explains an EEXIST from creating the mappings: which mapping, and who owns it.
Error conflict(const Config& c, const std::vector<IpPrefix>& ips, const Error& original) {
    for (const auto& ip : ips)
        for (const auto& m : c.mappings) {
            if (!m.applies(ip.family())) continue;
            auto owner =
                net::getSetElements(NFPROTO_INET, nat::kTableName, {mappingKey(m, ip.family())});
            if (owner && !owner->empty())
                return Error{Code::Conflict,
                             "host port " + m.text() + " is already mapped by " +
                                 (*owner)[0].comment,
                             original.details, EEXIST};
        }
    return original;
}

// Connections from the host to 127.0.0.1:hostPort must be routable to the container network.
void allowLocalnet(const cni::Result& prev) {
    for (const auto& itf : prev.interfaces)
        if (itf.sandbox.empty() && !itf.name.empty()) {
            (void)net::writeSysctl("net/ipv4/conf/" + itf.name + "/route_localnet", "1");
            return;
        }
}

// Stale UDP flows to a mapped host port would keep bypassing the (new or removed) mapping:
// forget them. Best effort, as in the reference: a failure is logged, not fatal.
void forgetUdpFlows(const Config& c) {
    std::vector<uint16_t> ports;
    for (const auto& m : c.mappings)
        if (m.protocol == "udp") ports.push_back(uint16_t(m.hostPort));
    if (ports.empty()) return;
    if (auto n = net::deleteConntrackByDstPort(IPPROTO_UDP, ports); !n) {
        std::string msg = "portmap: clearing UDP conntrack entries: " + n.error().text() + "\n";
        (void)!::write(2, msg.data(), msg.size());
    }
}

nat::ipt::PortmapSpec iptSpec(const Config& c, const std::vector<IpPrefix>& ips) {
    nat::ipt::PortmapSpec spec{.ips = ips,
                               .mappings = {},
                               .snat = c.snat,
                               .masqAll = c.masqAll,
                               .conditions4 = c.cond4.tokens,
                               .conditions6 = c.cond6.tokens,
                               .externalSetMarkChain = c.externalSetMarkChain};
    for (const auto& m : c.mappings)
        spec.mappings.push_back({.hostIP = m.hostIP,
                                 .family = m.family,
                                 .protocol = m.protocol,
                                 .hostPort = m.hostPort,
                                 .containerPort = m.containerPort});
    return spec;
}

// A host port mapped by another owner in table inet tether: its conflict error. Used by the
// iptables backend, so a port is not mapped twice across backends.
Status refuseNftTaken(const Config& c, const std::vector<IpPrefix>& ips, const std::string& owner) {
    for (const auto& ip : ips)
        for (const auto& m : c.mappings) {
            if (!m.applies(ip.family())) continue;
            auto have =
                net::getSetElements(NFPROTO_INET, nat::kTableName, {mappingKey(m, ip.family())});
            if (have && !have->empty() && (*have)[0].comment != owner)
                return std::unexpected(
                    Error{Code::Conflict,
                          "host port " + m.text() + " is already mapped by " + (*have)[0].comment,
                          {},
                          EEXIST});
        }
    return {};
}

// Adds the mappings with the iptables backend (nat/ipt_nat.hpp).
Status addIptables(const Config& c, const std::vector<IpPrefix>& ips, const std::string& owner) {
    TRY(refuseNftTaken(c, ips, owner));
    return nat::ipt::addPortmap(owner, iptSpec(c, ips));
}

// Adds the mappings to table inet tether in one transaction: either every element is installed
// or none. Creates the config's condition objects when a set is missing. A key held by the same
// attachment (a repeated ADD) replaces everything the attachment had; one held by another owner
// is the conflict.
Status addNftables(const Config& c, const std::vector<IpPrefix>& ips, const std::string& network,
                   const std::string& owner) {
    TRY(nat::ensureTable());
    const CondObjects cond = condObjects(c, network);
    net::SetChanges changes = plan(c, ips, owner, cond);
    const std::string what = "add port mappings for " + owner;
    auto st = nat::commit(changes, what);
    if (!st && st.error().errnum == ENOENT && !cond.chain.empty()) {
        TRY(ensureCondObjects(c, network));
        st = nat::commit(changes, what);
    }
    if (!st && st.error().errnum == EEXIST) {
        auto held = TRY(net::getSetElements(NFPROTO_INET, nat::kTableName, changes.create));
        for (const auto& e : held)
            if (e.comment != owner) return std::unexpected(conflict(c, ips, st.error()));
        changes.del = TRY(nat::ownedElements(portSets(c, network), owner));
        st = nat::commit(changes, what);
    }
    if (!st && st.error().errnum == EEXIST) return std::unexpected(conflict(c, ips, st.error()));
    return st;
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "must be called as chained plugin (no prevResult)");
    const cni::Result& prev = *args.conf.prevResult;
    if (c.mappings.empty()) return prev; // nothing to do, touch nothing
    auto ips = containerIps(args, prev);
    if (ips.empty()) return prev; // no address on CNI_IFNAME: nothing to map (as the reference)
    const std::string owner = nat::ownerTag(args.conf.name, args.containerId, args.ifname);
    if (TRY(chooseBackend(c)) == nat::Backend::Iptables) {
        TRY(addIptables(c, ips, owner));
    } else {
        TRY(nat::ipt::refuseTaken(owner, iptSpec(c, ips))); // mapped with iptables by another
        TRY(addNftables(c, ips, args.conf.name, owner));
    }
    TETHER_FAULT_POINT("portmap.after-rules");
    if (c.snat) allowLocalnet(prev);
    forgetUdpFlows(c);
    return prev;
}

Status cmdDel(const cni::CmdArgs& args) {
    // Both backends, whatever the config names now (it may have named the other one at ADD);
    // iptables is only exec'ed when one of the attachment's chains exists.
    const std::string owner = nat::ownerTag(args.conf.name, args.containerId, args.ifname);
    Status ipt = nat::ipt::remove(nat::ipt::Kind::Portmap, owner);
    auto c = parseConfig(args);
    Status nft = removeOwned(args, c, owner);
    TRY(ipt);
    TRY(nft);
    if (c) forgetUdpFlows(*c);
    return {};
}

Status cmdCheck(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "portmap CHECK requires a prevResult");
    if (c.mappings.empty()) return {};
    const std::string owner = nat::ownerTag(args.conf.name, args.containerId, args.ifname);
    if (TRY(chooseBackend(c)) == nat::Backend::Iptables)
        return nat::ipt::checkPortmap(owner, iptSpec(c, containerIps(args, *args.conf.prevResult)));
    for (const auto& ip : containerIps(args, *args.conf.prevResult))
        for (const auto& m : c.mappings) {
            if (!m.applies(ip.family())) continue;
            auto have = TRY(
                net::getSetElements(NFPROTO_INET, nat::kTableName, {mappingKey(m, ip.family())}));
            if (have.empty() || have[0].comment != owner)
                return fail(Code::Internal,
                            "port mapping " + m.text() + " of " + owner + " is missing");
        }
    return {};
}

Status cmdGc(const cni::CmdArgs& args) {
    auto valid = plugin::validAttachments(args.conf.raw);
    std::vector<std::string> keep;
    for (const auto& [cid, ifname] : valid)
        keep.push_back(nat::ownerTag(args.conf.name, cid, ifname));
    TRY(nat::ipt::gc(nat::ipt::Kind::Portmap, args.conf.name, keep));
    auto all = TRY(nat::listElements(portSets(parseConfig(args), args.conf.name)));
    std::vector<nat::Element> stale;
    for (auto& e : all) {
        if (!e.comment.starts_with(nat::networkPrefix(args.conf.name))) continue;
        bool ok = false;
        for (const auto& k : keep)
            ok = ok || k == e.comment;
        if (!ok) stale.push_back(std::move(e));
    }
    return nat::commit({.del = std::move(stale)}, "gc port mappings of network " + args.conf.name);
}

cni::PluginFuncs pluginFuncs() {
    return {.add = cmdAdd, .del = cmdDel, .check = cmdCheck, .status = {}, .gc = cmdGc};
}

} // namespace tether::portmap
