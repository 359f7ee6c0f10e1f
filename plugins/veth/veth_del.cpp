#include "cni/invoke.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/veth/veth_plugin.hpp"

namespace tether::veth {

namespace {

void collect(std::string& errors, const Status& st) {
    if (st) return;
    if (!errors.empty()) errors += "; ";
    errors += st.error().text();
}

Status deleteContainerLink(const cni::CmdArgs& args) {
    if (args.netns.empty()) return {};
    auto ns = TRY(net::Netns::openIfExists(args.netns));
    if (!ns) return {};
    auto sock = TRY(net::NetlinkSocket::openIn(*ns));
    auto gone = net::deleteLink(sock, std::string_view(args.ifname));
    if (!gone)
        return std::unexpected(gone.error().wrap("delete " + args.ifname + " in " + args.netns));
    return {};
}

} // namespace

Status cmdDel(const cni::CmdArgs& args) {
    auto c = parseConfig(args);
    std::string errors;
    // As the reference ptp: release the lease first, then the link (its host route goes with it).
    if (!args.conf.ipamType.empty())
        collect(errors, cni::delegateDel(args.conf.ipamType, args.stdinData));
    collect(errors, deleteContainerLink(args));
    if (c && c->nat.ipMasq) collect(errors, plugin::teardownNat(args, c->nat));
    if (!errors.empty()) return fail(Code::Internal, "DEL incomplete: " + errors);
    return {};
}

Status cmdCheck(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult) return fail(Code::InvalidConfig, "veth CHECK requires a prevResult");
    const cni::Result& prev = *args.conf.prevResult;
    TRY(cni::delegateCheck(args.conf.ipamType, args.stdinData));
    int idx = -1;
    for (size_t i = 0; i < prev.interfaces.size(); ++i)
        if (prev.interfaces[i].name == args.ifname && prev.interfaces[i].sandbox == args.netns)
            idx = int(i);
    if (idx < 0)
        return fail(Code::InvalidConfig,
                    "prevResult has no interface " + args.ifname + " in " + args.netns);
    auto ns = TRY(net::Netns::open(args.netns));
    auto sock = TRY(net::NetlinkSocket::openIn(ns));
    auto link = TRY(net::findLink(sock, std::string_view(args.ifname)));
    if (!link || link->kind != "veth")
        return fail(Code::Internal, "veth " + args.ifname + " not found in " + args.netns);
    const auto& want = prev.interfaces[size_t(idx)];
    if (!want.mac.empty() && want.mac != link->mac)
        return fail(Code::Internal, "interface " + args.ifname + " has MAC " + link->mac +
                                        ", expected " + want.mac);
    TRY(plugin::checkIface(sock, prev,
                           {.ifindex = link->index, .ifname = args.ifname, .resultIndex = idx}));
    if (c.nat.ipMasq) TRY(plugin::checkNat(args, c.nat, prev));
    return {};
}

} // namespace tether::veth
