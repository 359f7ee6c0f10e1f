// bandwidth ADD / DEL / CHECK / GC. Everything is created here, in one place: the TBF on the host
// veth (ingress), and for egress the IFB device, the ingress qdisc + redirect filter on the host
// veth and the TBF on the IFB. DEL deletes the IFB; the host veth's qdiscs go with the veth.
#include "plugins/bandwidth/bandwidth.hpp"

#include <linux/pkt_sched.h>

#include <algorithm>

#include "base/error_list.hpp"
#include "base/undo_stack.hpp"
#include "libnet/link.hpp"
#include "libnet/link_extra.hpp"
#include "libnet/netns.hpp"
#include "libnet/tc.hpp"
#include "plugins/iface/nat.hpp"
#include "plugins/iface/teardown.hpp"

namespace tether::bandwidth {

namespace tc = net::tc;

namespace {

constexpr uint32_t kLatencyMs = 25;

// Handle 1:<minor> of a class of the root HTB.
constexpr uint32_t classOf(uint16_t minor) {
    return TC_H_MAKE(0x10000u, minor);
}

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

// The root shaper of `ifindex`: a TBF, or with subnets an HTB whose filters send the listed
// peers' traffic (matched by `match`: the source on the host veth, the destination on the IFB)
// to the shaped class (shapedSubnets) or the uncapped one (unshapedSubnets).
Status shape(net::NetlinkSocket& sock, int ifindex, uint64_t rate, uint64_t burst, double ticks,
             const Limits& l, tc::Match match) {
    const tc::TbfParams p = tc::tbfParams(rate, burst, ticks, kLatencyMs);
    if (l.subnets.empty()) return tc::addTbf(sock, ifindex, p);
    const uint32_t shaped = classOf(tc::kShapedMinor), unshaped = classOf(tc::kUnshapedMinor);
    TRY(tc::addHtb(sock, ifindex, l.subnetsShaped ? tc::kUnshapedMinor : tc::kShapedMinor));
    auto rest = [&]() -> Status {
        TRY(tc::addHtbClass(sock, ifindex,
                            {.handle = shaped,
                             .rate = p.rate,
                             .ceil = 2 * p.rate,
                             .buffer = p.buffer,
                             .cbuffer = p.buffer}));
        TRY(tc::addHtbClass(
            sock, ifindex,
            {.handle = unshaped, .rate = tc::kUncappedRate, .ceil = tc::kUncappedRate}));
        for (const auto& net : l.subnets)
            TRY(tc::addSubnetFilter(sock, ifindex, net, match,
                                    l.subnetsShaped ? shaped : unshaped));
        return {};
    };
    auto st = rest();
    if (!st) (void)tc::deleteQdisc(sock, ifindex, tc::kRootParent); // with its classes, filters
    return st;
}

// What `shape` made on `ifindex` is there: the TBF, or the HTB with its default and classes.
Status checkShaper(net::NetlinkSocket& sock, int ifindex, const std::string& dev, uint64_t rate,
                   uint64_t burst, double ticks, const Limits& l) {
    const tc::TbfParams want = tc::tbfParams(rate, burst, ticks, kLatencyMs);
    if (l.subnets.empty()) return checkTbf(sock, ifindex, dev, want);
    const uint16_t def = l.subnetsShaped ? tc::kUnshapedMinor : tc::kShapedMinor;
    bool found = false;
    for (const auto& q : TRY(tc::listQdiscs(sock, ifindex)))
        found = found || (q.parent == tc::kRootParent && q.kind == "htb" && q.htbDefault == def);
    if (!found)
        return fail(Code::Internal, "bandwidth: no htb qdisc with default class 1:" +
                                        std::to_string(def) + " on " + dev);
    int ok = 0;
    for (const auto& c : TRY(tc::listHtbClasses(sock, ifindex))) {
        if (c.handle == classOf(tc::kShapedMinor) && c.rate == want.rate && c.buffer == want.buffer)
            ++ok;
        if (c.handle == classOf(tc::kUnshapedMinor) && c.rate == tc::kUncappedRate) ++ok;
    }
    if (ok != 2)
        return fail(Code::Internal, "bandwidth: the htb classes of " + dev + " do not match rate " +
                                        std::to_string(want.rate) + " B/s buffer " +
                                        std::to_string(want.buffer));
    return {};
}

// Host veth ingress -> IFB egress redirect, and the IFB's shaper.
Status shapeEgress(const cni::CmdArgs& args, const Limits& l, double ticks,
                   net::NetlinkSocket& host, const net::LinkInfo& veth, UndoStack& undo,
                   cni::Result& result) {
    const std::string name = ifbName(args.conf.name, args.containerId);
    std::string alias = ownerAlias(args.conf.name, args.containerId);
    if (alias.size() > 255) alias.clear(); // IFALIASZ: such an IFB is found by DEL, not by GC
    // The IFB queues what the TBF holds back: at least 1000 packets, as the reference.
    const uint32_t qlen = std::max(TRY(net::getLinkTuning(host, veth.index)).txQLen, 1000u);
    int ifb = TRY(net::createIfb(
        host, {.name = name, .mtu = veth.mtu, .alias = alias, .txQLen = qlen, .up = true}));
    undo.push([&host, ifb] { (void)net::deleteLink(host, ifb); });
    auto link = TRY(net::getLink(host, name));
    result.interfaces.push_back({.name = name, .mac = link.mac});
    TRY(tc::addIngress(host, veth.index));
    undo.push([&host, i = veth.index] { (void)tc::deleteQdisc(host, i, tc::kIngressParent); });
    TRY(tc::addRedirectFilter(host, veth.index, ifb));
    return shape(host, ifb, l.egressRate, l.egressBurst, ticks, l, tc::Match::Destination);
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

    UndoStack undo;
    if (l.ingress()) {
        TRY(shape(host, veth.index, l.ingressRate, l.ingressBurst, ticks, l, tc::Match::Source));
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
        TRY(checkShaper(host, veth.index, veth.name, l.ingressRate, l.ingressBurst, ticks, l));
    if (!l.egress()) return {};
    const std::string name = ifbName(args.conf.name, args.containerId);
    auto ifb = TRY(net::findLink(host, name));
    if (!ifb) return fail(Code::Internal, "bandwidth: ifb device " + name + " is missing");
    TRY(checkShaper(host, ifb->index, name, l.egressRate, l.egressBurst, ticks, l));
    for (const auto& f : TRY(tc::listFilters(host, veth.index, tc::kIngressHandle)))
        if (f.kind == "u32" && f.matchAll && f.redirectTo == ifb->index) return {};
    return fail(Code::Internal,
                "bandwidth: no filter on " + veth.name + " redirects its traffic to " + name);
}

Status cmdGc(const cni::CmdArgs& args) {
    auto host = TRY(net::NetlinkSocket::open());
    const std::string prefix = "tether-bandwidth:" + args.conf.name + ":";
    auto valid = plugin::validAttachments(args.conf.raw);
    ErrorList errors;
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
