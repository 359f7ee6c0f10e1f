#include "cni/invoke.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "plugins/bridge/bridge.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::bridge {

namespace {

Status mismatch(const std::string& what) {
    return fail(Code::Internal, what);
}

// The index of the container interface in prevResult: named CNI_IFNAME with a sandbox.
Expected<int> containerIndex(const cni::CmdArgs& args, const cni::Result& r) {
    for (size_t i = 0; i < r.interfaces.size(); ++i)
        if (r.interfaces[i].name == args.ifname && !r.interfaces[i].sandbox.empty()) {
            if (r.interfaces[i].sandbox != args.netns)
                return fail(Code::Internal, "interface " + args.ifname + " sandbox " +
                                                r.interfaces[i].sandbox +
                                                " does not match CNI_NETNS " + args.netns);
            return int(i);
        }
    return fail(Code::InvalidConfig,
                "prevResult has no interface " + args.ifname + " in a sandbox");
}

} // namespace

Status cmdCheck(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "bridge CHECK requires a prevResult");
    const cni::Result& prev = *args.conf.prevResult;
    if (!args.conf.ipamType.empty()) TRY(cni::delegateCheck(args.conf.ipamType, args.stdinData));

    auto host = TRY(net::NetlinkSocket::open());
    auto br = TRY(net::findLink(host, c.bridge));
    if (!br) return mismatch("bridge " + c.bridge + " not found");
    if (br->kind != "bridge") return mismatch(c.bridge + " is not a bridge");

    const int idx = TRY(containerIndex(args, prev));
    auto ns = TRY(net::Netns::open(args.netns));
    auto csock = TRY(net::NetlinkSocket::openIn(ns));
    auto link = TRY(net::findLink(csock, std::string_view(args.ifname)));
    if (!link) return mismatch("interface " + args.ifname + " not found in " + args.netns);
    if (link->kind != "veth") return mismatch(args.ifname + " is not a veth");
    const auto& want = prev.interfaces[size_t(idx)];
    if (!want.mac.empty() && want.mac != link->mac)
        return mismatch("interface " + args.ifname + " has MAC " + link->mac + ", expected " +
                        want.mac);

    // The peer (host end) must be a port of our bridge.
    auto peer = TRY(net::findLink(host, link->peerIndex));
    if (!peer || peer->kind != "veth") return mismatch("host end of " + args.ifname + " not found");
    if (peer->masterIndex != br->index)
        return mismatch("host veth " + peer->name + " is not attached to bridge " + c.bridge);

    TRY(plugin::checkIface(csock, prev,
                           {.ifindex = link->index, .ifname = args.ifname, .resultIndex = idx}));
    if (c.ipMasq) TRY(plugin::checkNat(args, c.nat(), prev));
    return {};
}

} // namespace tether::bridge
