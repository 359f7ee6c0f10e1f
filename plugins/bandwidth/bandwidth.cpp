// bandwidth ADD / DEL / CHECK / GC. Everything is created here, in one place: the TBF on the host
// veth (ingress), and for egress the IFB device, the ingress qdisc + redirect filter on the host
// veth and the TBF on the IFB. DEL deletes the IFB; the host veth's qdiscs go with the veth.
#include "plugins/bandwidth/bandwidth.hpp"

#include "libnet/link.hpp"
#include "libnet/link_extra.hpp"
#include "libnet/netns.hpp"
#include "libnet/tc.hpp"
#include "plugins/iface/nat.hpp"
#include "plugins/iface/teardown.hpp"
#include "plugins/iface/undo.hpp"

namespace tether::bandwidth {

namespace tc = net::tc;

namespace {

constexpr uint32_t kLatencyMs = 25;

Status done(const Expected<bool>& e) {
    if (!e) return std::unexpected(e.error());
    return {};
}

// The host end of CNI_IFNAME's veth, which prevResult must list as a host interface.
Expected<net::LinkInfo> hostVeth(const cni::CmdArgs& args, const cni::Result& prev,
                                 net::NetlinkSocket& host) {
    if (prev.interfaces.empty()) return fail(Code::InvalidConfig, "no interfaces provided");
    auto ns = TRY(net::Netns::open(args.netns));
    auto csock = TRY(net::NetlinkSocket::openIn(ns));
    auto cont = TRY(net::findLink(csock, args.ifname));
    if (!cont || cont->kind != "veth" || cont->peerIndex <= 0)
        return fail(Code::InvalidConfig,
                    "container interface " + args.ifname + " has no veth peer");
    auto peer = TRY(net::findLink(host, cont->peerIndex));
    if (!peer)
        return fail(Code::InvalidConfig, "veth peer with index " + std::to_string(cont->peerIndex) +
                                             " is not in host ns");
    for (const auto& itf : prev.interfaces)
        if (itf.sandbox.empty() && itf.name == peer->name) return *peer;
    return fail(Code::InvalidConfig, "no veth peer of container interface found in host ns (" +
                                         peer->name + " is not in prevResult.interfaces)");
}

// The root TBF of `ifindex` must be ours with exactly `want`.
Status checkTbf(net::NetlinkSocket& sock, int ifindex, const std::string& dev,
                const tc::TbfParams& want) {
    for (const auto& q : TRY(tc::listQdiscs(sock, ifindex))) {
        if (q.parent != tc::kRootParent) continue;
        if (q.kind != "tbf" || !q.tbf)
            return fail(Code::Internal,
                        "bandwidth: root qdisc of " + dev + " is " + q.kind + ", expected tbf");
        if (*q.tbf != want)
            return fail(Code::Internal,
                        "bandwidth: tbf of " + dev + " has rate " + std::to_string(q.tbf->rate) +
                            " limit " + std::to_string(q.tbf->limit) + " buffer " +
                            std::to_string(q.tbf->buffer) + ", expected rate " +
                            std::to_string(want.rate) + " limit " + std::to_string(want.limit) +
                            " buffer " + std::to_string(want.buffer));
        return {};
    }
    return fail(Code::Internal, "bandwidth: no tbf qdisc on " + dev);
}

// Host veth ingress -> IFB egress redirect, and the IFB's TBF.
Status shapeEgress(const cni::CmdArgs& args, const Limits& l, double ticks,
                   net::NetlinkSocket& host, const net::LinkInfo& veth, plugin::UndoStack& undo,
                   cni::Result& result) {
    const std::string name = ifbName(args.conf.name, args.containerId);
    std::string alias = ownerAlias(args.conf.name, args.containerId);
    if (alias.size() > 255) alias.clear(); // IFALIASZ: such an IFB is found by DEL, not by GC
    const uint32_t qlen = TRY(net::getLinkTuning(host, veth.index)).txQLen;
    int ifb = TRY(net::createIfb(
        host, {.name = name, .mtu = veth.mtu, .alias = alias, .txQLen = qlen, .up = true}));
    undo.push([&host, ifb] { (void)net::deleteLink(host, ifb); });
    auto link = TRY(net::getLink(host, name));
    result.interfaces.push_back({.name = name, .mac = link.mac});
    TRY(tc::addIngress(host, veth.index));
    undo.push([&host, i = veth.index] { (void)tc::deleteQdisc(host, i, tc::kIngressParent); });
    TRY(tc::addRedirectFilter(host, veth.index, ifb));
    TRY(tc::addTbf(host, ifb, tc::tbfParams(l.egressRate, l.egressBurst, ticks, kLatencyMs)));
    return {};
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Limits l = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "must be called as chained plugin (no prevResult)");
    cni::Result result = *args.conf.prevResult;
    if (!l.ingress() && !l.egress()) return result;
    const double ticks = TRY(tc::ticksPerUsec());
    auto host = TRY(net::NetlinkSocket::open());
    const net::LinkInfo veth = TRY(hostVeth(args, result, host));

    plugin::UndoStack undo;
    if (l.ingress()) {
        TRY(tc::addTbf(host, veth.index,
                       tc::tbfParams(l.ingressRate, l.ingressBurst, ticks, kLatencyMs)));
        undo.push([&host, i = veth.index] { (void)tc::deleteQdisc(host, i, tc::kRootParent); });
    }
    if (l.egress()) TRY(shapeEgress(args, l, ticks, host, veth, undo, result));
    undo.commit();
    return result;
}

Status cmdDel(const cni::CmdArgs& args) {
    auto host = TRY(net::NetlinkSocket::open());
    auto gone = net::deleteLink(host, ifbName(args.conf.name, args.containerId));
    if (!gone) return std::unexpected(std::move(gone).error().wrap("bandwidth DEL"));
    return {};
}

Status cmdCheck(const cni::CmdArgs& args) {
    const Limits l = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "must be called as a chained plugin (no prevResult)");
    const double ticks = TRY(tc::ticksPerUsec());
    auto host = TRY(net::NetlinkSocket::open());
    const net::LinkInfo veth = TRY(hostVeth(args, *args.conf.prevResult, host));
    if (l.ingress())
        TRY(checkTbf(host, veth.index, veth.name,
                     tc::tbfParams(l.ingressRate, l.ingressBurst, ticks, kLatencyMs)));
    if (!l.egress()) return {};
    const std::string name = ifbName(args.conf.name, args.containerId);
    auto ifb = TRY(net::findLink(host, name));
    if (!ifb) return fail(Code::Internal, "bandwidth: ifb device " + name + " is missing");
    TRY(checkTbf(host, ifb->index, name,
                 tc::tbfParams(l.egressRate, l.egressBurst, ticks, kLatencyMs)));
    for (const auto& f : TRY(tc::listFilters(host, veth.index, tc::kIngressHandle)))
        if (f.kind == "u32" && f.matchAll && f.redirectTo == ifb->index) return {};
    return fail(Code::Internal,
                "bandwidth: no filter on " + veth.name + " redirects its traffic to " + name);
}

Status cmdGc(const cni::CmdArgs& args) {
    auto host = TRY(net::NetlinkSocket::open());
    const std::string prefix = "tether-bandwidth:" + args.conf.name + ":";
    auto valid = plugin::validAttachments(args.conf.raw);
    plugin::ErrorCollector errors;
    for (const auto& l : TRY(net::listLinksOfKind(host, "ifb"))) {
        if (!l.alias.starts_with(prefix)) continue;
        bool keep = false;
        for (const auto& [cid, ifname] : valid)
            keep = keep || ownerAlias(args.conf.name, cid) == l.alias;
        if (!keep) errors.add(done(net::deleteLink(host, l.index)));
    }
    return errors.result("bandwidth GC of network " + args.conf.name);
}

cni::PluginFuncs pluginFuncs() {
    return {.add = cmdAdd, .del = cmdDel, .check = cmdCheck, .status = {}, .gc = cmdGc};
}

} // namespace tether::bandwidth
