#include "plugins/tap/tap.hpp"

#include <cstdio>
#include <optional>

#include "base/undo_stack.hpp"
#include "cni/invoke.hpp"
#include "libnet/link.hpp"
#include "libnet/tap.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/iface/pending_ipam.hpp"
#include "plugins/iface/single_link.hpp"

namespace tether::tap {

namespace {

constexpr int kContainerIndex = 0; // result.interfaces: [tap]

// The bridge named by `bridge` in the container netns (code 7 when missing or not a bridge).
Expected<std::optional<net::LinkInfo>> findBridge(net::NetlinkSocket& csock, const Config& c,
                                                  const cni::CmdArgs& args) {
    if (c.bridge.empty()) return std::nullopt;
    auto br = TRY(net::findLink(csock, std::string_view(c.bridge)));
    if (!br)
        return fail(Code::InvalidConfig,
                    "bridge \"" + c.bridge + "\" not found in the container netns " + args.netns);
    if (br->kind != "bridge")
        return fail(Code::InvalidConfig, "bridge \"" + c.bridge + "\" in " + args.netns + " is a " +
                                             (br->kind.empty() ? "device" : br->kind) +
                                             ", not a bridge");
    return br;
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    const bool l3 = !args.conf.ipamType.empty();
    TRY(plugin::validateAddressing(args));
    if (!c.selinuxContext.empty())
        std::fprintf(stderr, "tap: selinuxContext \"%s\" ignored (no SELinux labelling here)\n",
                     c.selinuxContext.c_str());
    auto cns = TRY(net::Netns::open(args.netns));
    auto csock = TRY(net::NetlinkSocket::openIn(cns));
    const auto bridge = TRY(findBridge(csock, c, args));
    TRY(plugin::refuseExistingIfname(csock, args));

    UndoStack undo;
    std::optional<plugin::PendingIpamAdd> ipam; // after `undo`: released first on failure
    if (l3) ipam.emplace(args);
    TRY(net::createTap(cns, {.name = args.ifname,
                             .multiQueue = c.multiQueue,
                             .vnetHdr = c.owner && c.group,
                             .owner = c.owner,
                             .group = c.group}));
    undo.push([&csock, &args] { (void)net::deleteLink(csock, std::string_view(args.ifname)); });
    auto link = TRY(net::getLink(csock, args.ifname));
    if (c.mtu) TRY(net::setLinkMtu(csock, link.index, uint32_t(c.mtu)));
    if (!c.mac.empty()) TRY(net::setLinkMac(csock, link.index, c.mac));
    if (bridge) TRY(net::setLinkMaster(csock, link.index, bridge->index));
    link = TRY(net::getLink(csock, args.ifname));

    auto result = TRY(plugin::addressLink(
        ipam, undo, args, csock, link, kContainerIndex, [&](const cni::Result& r) -> Status {
            (void)net::setLinkAfConf(csock, link.index, {.arpNotify = true});
            return plugin::configureIface(
                csock, cns, r,
                {.ifindex = link.index, .ifname = args.ifname, .resultIndex = kContainerIndex});
        }));
    undo.commit();
    return result;
}

Status cmdDel(const cni::CmdArgs& args) {
    // Only `ipam` matters: a config that no longer validates must not keep lease and device.
    return plugin::delIpamThenLink(args);
}

namespace {

Status checkTap(net::NetlinkSocket& csock, const Config& c, const cni::CmdArgs& args,
                const net::LinkInfo& link) {
    auto info = TRY(net::getTapInfo(csock, link.index));
    if (!info || !info->tap)
        return fail(Code::Internal, "container interface " + args.ifname + " is not a tap");
    auto idText = [](std::optional<uint32_t> v) { return v ? std::to_string(*v) : "none"; };
    if (info->multiQueue != c.multiQueue)
        return fail(Code::Internal, "tap " + args.ifname + " multiQueue is " +
                                        (info->multiQueue ? "on" : "off") + ", config says " +
                                        (c.multiQueue ? "on" : "off"));
    if (info->owner != c.owner)
        return fail(Code::Internal, "tap " + args.ifname + " owner is " + idText(info->owner) +
                                        ", config says " + idText(c.owner));
    if (info->group != c.group)
        return fail(Code::Internal, "tap " + args.ifname + " group is " + idText(info->group) +
                                        ", config says " + idText(c.group));
    if (c.mtu && link.mtu != uint32_t(c.mtu))
        return fail(Code::Internal, "tap " + args.ifname + " MTU is " + std::to_string(link.mtu) +
                                        ", config says " + std::to_string(c.mtu));
    const auto bridge = TRY(findBridge(csock, c, args));
    if (bridge && link.masterIndex != bridge->index)
        return fail(Code::Internal, "tap " + args.ifname + " is not a port of " + c.bridge);
    return {};
}

} // namespace

Status cmdCheck(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    return plugin::checkSingleLink(args, [&](net::NetlinkSocket& csock, const net::LinkInfo& link) {
        return checkTap(csock, c, args, link);
    });
}

} // namespace tether::tap
