#include "plugins/tap/tap.hpp"

#include <cstdio>
#include <optional>

#include "base/error_list.hpp"
#include "base/undo_stack.hpp"
#include "cni/invoke.hpp"
#include "cni/version.hpp"
#include "libnet/link.hpp"
#include "libnet/tap.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/iface/pending_ipam.hpp"
#include "plugins/iface/teardown.hpp"

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
    if (l3) TRY(plugin::PendingIpamAdd::validate(args));
    if (!l3 && cni::compareVersions(args.conf.cniVersion, "0.3.0") < 0)
        return fail(Code::IncompatibleVersion,
                    "cannot convert result to " + args.conf.cniVersion +
                        ": no valid IP addresses (an interface without ipam needs 0.3.0 or later)");
    if (!c.selinuxContext.empty())
        std::fprintf(stderr, "tap: selinuxContext \"%s\" ignored (no SELinux labelling here)\n",
                     c.selinuxContext.c_str());
    auto cns = TRY(net::Netns::open(args.netns));
    auto csock = TRY(net::NetlinkSocket::openIn(cns));
    const auto bridge = TRY(findBridge(csock, c, args));
    if (auto clash = TRY(net::findLink(csock, std::string_view(args.ifname))))
        return fail(Code::Conflict,
                    "interface " + args.ifname + " already exists in " + args.netns);

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

    cni::Result result;
    if (ipam) { // engaged exactly when l3
        result = TRY(ipam->take());
        undo.push([&args] { (void)cni::delegateDel(args.conf.ipamType, args.stdinData); });
        if (result.ips.empty())
            return fail(Code::Internal, "IPAM plugin returned missing IP config");
        for (auto& ip : result.ips)
            ip.interface = kContainerIndex;
        (void)net::setLinkAfConf(csock, link.index, {.arpNotify = true});
        TRY(plugin::configureIface(
            csock, cns, result,
            {.ifindex = link.index, .ifname = args.ifname, .resultIndex = kContainerIndex}));
    } else {
        TRY(net::setLinkUp(csock, link.index, true));
    }
    result.interfaces = {{.name = args.ifname, .mac = link.mac, .sandbox = args.netns}};
    if (args.conf.dns && !args.conf.dns->empty()) result.dns = *args.conf.dns;
    result.cniVersion = args.conf.cniVersion;
    undo.commit();
    return result;
}

Status cmdDel(const cni::CmdArgs& args) {
    // Only `ipam` matters: a config that no longer validates must not keep lease and device.
    ErrorList errors;
    if (!args.conf.ipamType.empty())
        errors.add(cni::delegateDel(args.conf.ipamType, args.stdinData));
    errors.add(plugin::deleteContainerLink(args));
    return errors.result("DEL");
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
    if (!args.conf.ipamType.empty()) TRY(cni::delegateCheck(args.conf.ipamType, args.stdinData));
    if (!args.conf.prevResult) return fail(Code::InvalidConfig, "required prevResult missing");
    const cni::Result& prev = *args.conf.prevResult;
    int idx = -1;
    for (size_t i = 0; i < prev.interfaces.size(); ++i)
        if (prev.interfaces[i].name == args.ifname && prev.interfaces[i].sandbox == args.netns)
            idx = int(i);
    if (idx < 0)
        return fail(Code::InvalidConfig,
                    "prevResult has no interface " + args.ifname + " in " + args.netns);
    auto cns = TRY(net::Netns::open(args.netns));
    auto csock = TRY(net::NetlinkSocket::openIn(cns));
    auto link = TRY(net::findLink(csock, std::string_view(args.ifname)));
    if (!link)
        return fail(Code::Internal,
                    "container interface " + args.ifname + " not found in " + args.netns);
    TRY(checkTap(csock, c, args, *link));
    const auto& want = prev.interfaces[size_t(idx)];
    if (!want.mac.empty() && want.mac != link->mac)
        return fail(Code::Internal, "interface " + args.ifname + " has MAC " + link->mac +
                                        ", prevResult says " + want.mac);
    return plugin::checkIface(csock, prev,
                              {.ifindex = link->index, .ifname = args.ifname, .resultIndex = idx});
}

} // namespace tether::tap
