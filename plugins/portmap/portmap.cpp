#include "plugins/portmap/portmap.hpp"
#include "base/fault_point.hpp"

#include <netinet/in.h>
#include <unistd.h>

#include "base/log.hpp"
#include "libnet/conntrack.hpp"
#include "libnet/sysctl.hpp"
#include "nat/nat_backend.hpp"
#include "nat/nat_table.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::portmap {

using net::Family;
using net::IpPrefix;

namespace {

// The container's first IPv4 and IPv6 address, as the reference picks them: IPs of prevResult
// except those whose `interface` names a known interface that is not CNI_IFNAME in a sandbox (an
// IP without `interface`, or with an index outside `interfaces`, counts).
std::vector<IpPrefix> containerIps(const cni::CmdArgs& args, const cni::Result& prev) {
    std::vector<IpPrefix> out;
    bool have4 = false, have6 = false;
    for (const auto& ip : prev.ips) {
        if (ip.interface && *ip.interface >= 0 && size_t(*ip.interface) < prev.interfaces.size()) {
            const auto& itf = prev.interfaces[size_t(*ip.interface)];
            if (itf.name != args.ifname || itf.sandbox.empty()) continue;
        }
        auto p = IpPrefix::parse(ip.address);
        if (!p) continue;
        bool& have = p->family() == Family::V4 ? have4 : have6;
        if (have) continue;
        have = true;
        out.push_back(*p);
    }
    return out;
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
                               .externalSetMarkChain = c.externalSetMarkChain,
                               .markMasqBit = c.externalSetMarkChain.empty() ? c.markMasqBit : -1};
    for (const auto& m : c.mappings)
        spec.mappings.push_back({.hostIP = m.hostIP,
                                 .family = m.family,
                                 .protocol = m.protocol,
                                 .hostPort = m.hostPort,
                                 .containerPort = m.containerPort});
    return spec;
}

nat::ConditionSets conditionSets(const CondObjects& o) {
    return {.set4 = o.set4, .set4ip = o.set4ip, .set6 = o.set6, .set6ip = o.set6ip};
}

// The request for either backend: the mappings of `c` for the container addresses `ips`; the
// nftables condition objects are created on first use. `c` and `network` must outlive it.
nat::PortmapRequest request(const Config& c, const std::vector<IpPrefix>& ips,
                            const std::string& network) {
    const CondObjects cond = condObjects(c, network);
    nat::PortmapRequest req{.spec = iptSpec(c, ips),
                            .cond = conditionSets(cond),
                            .createConditions = {},
                            .createMark = {}};
    if (!cond.chain.empty())
        req.createConditions = [&c, &network] { return ensureCondObjects(c, network); };
    if (req.spec.markMasqBit >= 0)
        req.createMark = [bit = req.spec.markMasqBit] { return nat::ensureMarkObjects(bit); };
    return req;
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "must be called as chained plugin (no prevResult)");
    const cni::Result& prev = *args.conf.prevResult;
    if (c.mappings.empty()) {
        log::debug("no port mappings: nothing to do");
        return prev; // nothing to do, touch nothing
    }
    auto ips = containerIps(args, prev);
    if (ips.empty()) {
        log::debug("no address on {} in prevResult: nothing to map", args.ifname);
        return prev; // no address on CNI_IFNAME: nothing to map (as the reference)
    }
    const std::string owner = nat::ownerTag(args.conf.name, args.containerId, args.ifname);
    const nat::Backend kind = TRY(chooseBackend(c));
    const nat::Backend other =
        kind == nat::Backend::Iptables ? nat::Backend::Nftables : nat::Backend::Iptables;
    const nat::PortmapRequest req = request(c, ips, args.conf.name);
    TRY(nat::backendFor(other).refuseTaken(owner, req)); // a host port is mapped once, anywhere
    TRY(nat::backendFor(kind).addPortmap(owner, req));
    log::debug("{} mapping(s) added with {} (owner {})", c.mappings.size(),
               kind == nat::Backend::Iptables ? "iptables" : "nftables", owner);
    TETHER_FAULT_POINT("portmap.after-rules");
    if (c.snat) allowLocalnet(prev);
    forgetUdpFlows(c);
    return prev;
}

Status cmdDel(const cni::CmdArgs& args) {
    // Both backends, whatever the config names now (it may have named the other one at ADD);
    // iptables is only exec'ed when one of the attachment's chains exists.
    const std::string owner = nat::ownerTag(args.conf.name, args.containerId, args.ifname);
    auto c = parseConfig(args);
    // What DEL knows of the ADD: the mappings (config) and addresses (prevResult), to find the
    // nftables elements by key; the condition sets of the config. A bad config: nothing known.
    nat::PortmapRequest known;
    if (c)
        known = request(*c,
                        args.conf.prevResult ? containerIps(args, *args.conf.prevResult)
                                             : std::vector<IpPrefix>{},
                        args.conf.name);
    Status ipt = nat::backendFor(nat::Backend::Iptables).removePortmap(owner, known);
    Status nft = nat::backendFor(nat::Backend::Nftables).removePortmap(owner, known);
    if (log::enabled(log::Level::Debug))
        log::debug("mappings of owner {} removed (iptables: {}, nftables: {})", owner,
                   ipt ? "ok" : ipt.error().text(), nft ? "ok" : nft.error().text());
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
    const auto ips = containerIps(args, *args.conf.prevResult);
    return nat::backendFor(TRY(chooseBackend(c)))
        .checkPortmap(owner, request(c, ips, args.conf.name));
}

Status cmdGc(const cni::CmdArgs& args) {
    auto valid = plugin::validAttachments(args.conf.raw);
    std::vector<std::string> keep;
    keep.reserve(valid.size());
    for (const auto& [cid, ifname] : valid)
        keep.push_back(nat::ownerTag(args.conf.name, cid, ifname));
    TRY(nat::backendFor(nat::Backend::Iptables).gcPortmap(args.conf.name, keep, {}));
    auto c = parseConfig(args);
    const nat::ConditionSets cond =
        c ? conditionSets(condObjects(*c, args.conf.name)) : nat::ConditionSets{};
    return nat::backendFor(nat::Backend::Nftables).gcPortmap(args.conf.name, keep, cond);
}

cni::PluginFuncs pluginFuncs() {
    return {.add = cmdAdd, .del = cmdDel, .check = cmdCheck, .status = {}, .gc = cmdGc};
}

} // namespace tether::portmap
