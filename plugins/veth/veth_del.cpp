#include <thread>
#include <vector>

#include "base/error_list.hpp"
#include "base/log.hpp"
#include "cni/invoke.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/iface/pending_ipam.hpp"
#include "plugins/iface/teardown.hpp"
#include "plugins/veth/veth_plugin.hpp"

namespace tether::veth {

Status cmdDel(const cni::CmdArgs& args) {
    auto c = parseConfig(args);
    // Deleting the link mostly waits for the kernel (its host route goes with it), so the lease
    // (always, even without a netns; the reference ptp releases it first) and the NAT elements go
    // at the same time on a second thread.
    std::vector<Status> hostSide;
    // Except dhcp: its daemon sends the RELEASE through the container's interface, so that
    // lease goes before the link does (the reference's order for every IPAM).
    const bool ipamFirst = args.conf.ipamType == "dhcp";
    if (ipamFirst) hostSide.push_back(cni::delegateDel(args.conf.ipamType, args.stdinData));
    std::thread side([&] {
        if (!args.conf.ipamType.empty() && !ipamFirst)
            hostSide.push_back(cni::delegateDel(args.conf.ipamType, args.stdinData));
        if (c && c->nat.ipMasq) hostSide.push_back(plugin::teardownNat(args, c->nat));
    });
    log::debug("deleting {} in {}; releasing lease ({}) and NAT state", args.ifname,
               args.netns.empty() ? "(no netns)" : args.netns, args.conf.ipamType);
    Status link = plugin::deleteContainerLink(args);
    side.join();
    ErrorList errors;
    for (const auto& st : hostSide)
        errors.add(st);
    errors.add(link);
    return errors.result("DEL");
}

Status cmdCheck(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult) return fail(Code::InvalidConfig, "veth CHECK requires a prevResult");
    const cni::Result& prev = *args.conf.prevResult;
    TRY(cni::delegateCheck(args.conf.ipamType, args.stdinData));
    const size_t idx = TRY(plugin::prevResultInterface(prev, args));
    auto ns = TRY(net::Netns::open(args.netns));
    auto sock = TRY(net::NetlinkSocket::openIn(ns));
    auto link = TRY(net::findLink(sock, std::string_view(args.ifname)));
    if (!link || link->kind != "veth")
        return fail(Code::Internal, "veth " + args.ifname + " not found in " + args.netns);
    const auto& want = prev.interfaces[idx];
    if (!want.mac.empty() && want.mac != link->mac)
        return fail(Code::Internal, "interface " + args.ifname + " has MAC " + link->mac +
                                        ", expected " + want.mac);
    TRY(plugin::checkIface(
        sock, prev, {.ifindex = link->index, .ifname = args.ifname, .resultIndex = int(idx)}));
    if (c.nat.ipMasq) TRY(plugin::checkNat(args, c.nat, prev));
    return {};
}

} // namespace tether::veth
