#include "plugins/macvlan/macvlan.hpp"

#include <optional>

#include "base/undo_stack.hpp"
#include "cni/invoke.hpp"
#include "libnet/arp.hpp"
#include "libnet/link.hpp"
#include "libnet/sysctl.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/iface/pending_ipam.hpp"
#include "plugins/iface/single_link.hpp"

namespace tether::macvlan {

namespace {

constexpr int kContainerIndex = 0; // result.interfaces: [container]

// The master as configured, or the interface of the default route, in the netns of `sock`.
Expected<net::LinkInfo> findMaster(net::NetlinkSocket& sock, const Config& c,
                                   const std::string& where) {
    if (c.master.empty()) {
        auto link = TRY(net::defaultRouteLink(sock));
        if (!link)
            return fail(Code::InvalidConfig,
                        "no master given and no default route interface found in " + where);
        return *link;
    }
    auto link = TRY(net::findLink(sock, std::string_view(c.master)));
    if (!link)
        return fail(Code::InvalidConfig,
                    "master interface \"" + c.master + "\" not found in " + where);
    return *link;
}

std::string masterWhere(const Config& c, const cni::CmdArgs& args) {
    return c.linkInContainer ? "the container netns " + args.netns : "the host netns";
}

// Addresses, routes and the announcements of the L3 case, inside the container.
Status configureL3(net::NetlinkSocket& csock, const net::Netns& cns, const cni::CmdArgs& args,
                   const net::LinkInfo& link, const cni::Result& result) {
    bool hasV6 = false;
    for (const auto& ip : result.ips)
        hasV6 = hasV6 || ip.address.find(':') != std::string::npos;
    // Announce the link's addresses on address/link changes too, as the reference asks the
    // kernel to (arp_notify, ndisc_notify).
    (void)net::setLinkAfConf(csock, link.index, {.arpNotify = true});
    if (hasV6) (void)net::writeSysctl(cns, "net/ipv6/conf/" + args.ifname + "/ndisc_notify", "1");
    plugin::IfaceConfig ifc{
        .ifindex = link.index, .ifname = args.ifname, .resultIndex = kContainerIndex};
    TRY(plugin::configureIface(csock, cns, result, ifc));
    // A neighbour that cached another MAC for one of these addresses (a previous container)
    // learns the new owner now instead of after its cache entry expires.
    for (const auto& ip : result.ips) {
        auto p = net::IpPrefix::parse(ip.address);
        if (p && p->address().isV4())
            (void)net::sendGratuitousArp(cns, link.index, link.mac, p->address());
    }
    return {};
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    const bool l3 = !args.conf.ipamType.empty();
    TRY(plugin::validateAddressing(args));
    auto cns = TRY(net::Netns::open(args.netns));
    auto host = TRY(net::NetlinkSocket::open());
    auto csock = TRY(net::NetlinkSocket::openIn(cns));
    net::NetlinkSocket& msock = c.linkInContainer ? csock : host;
    const auto master = TRY(findMaster(msock, c, masterWhere(c, args)));
    if (c.mtu > int64_t(master.mtu))
        return fail(Code::InvalidConfig, "invalid MTU " + std::to_string(c.mtu) +
                                             ", must be [0, master MTU(" +
                                             std::to_string(master.mtu) + ")]");
    TRY(plugin::refuseExistingIfname(csock, args));

    UndoStack undo;
    // IPAM (another process unless it is our own host-local) runs while the device is made.
    // Declared after `undo`, it goes first: a lease of an ADD that fails is released.
    std::optional<plugin::PendingIpamAdd> ipam;
    if (l3) ipam.emplace(args);
    TRY(net::createMacvlan(msock, {.name = args.ifname,
                                   .masterIndex = master.index,
                                   .mode = c.mode,
                                   .netns = c.linkInContainer ? nullptr : &cns,
                                   .mtu = uint32_t(c.mtu),
                                   .mac = c.mac,
                                   .bcQueueLen = c.bcQueueLen}));
    undo.push([&csock, &args] { (void)net::deleteLink(csock, std::string_view(args.ifname)); });
    const auto link = TRY(net::getLink(csock, args.ifname));

    auto result = TRY(plugin::addressLink(
        ipam, undo, args, csock, link, kContainerIndex,
        [&](const cni::Result& r) { return configureL3(csock, cns, args, link, r); }));
    undo.commit();
    return result;
}

Status cmdDel(const cni::CmdArgs& args) {
    // Nothing of the config but `ipam` matters here: a master that is gone, or a config that no
    // longer validates, must not keep the lease and the device alive.
    return plugin::delIpamThenLink(args);
}

Status cmdCheck(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    return plugin::checkSingleLink(
        args, [&](net::NetlinkSocket& csock, const net::LinkInfo& link) -> Status {
            if (c.linkInContainer) {
                TRY(findMaster(csock, c, masterWhere(c, args)));
            } else {
                auto host = TRY(net::NetlinkSocket::open());
                TRY(findMaster(host, c, masterWhere(c, args)));
            }
            auto info = TRY(net::getMacvlanInfo(csock, link.index));
            if (!info)
                return fail(Code::Internal,
                            "container interface " + args.ifname + " is not a macvlan");
            if (info->mode != c.mode)
                return fail(Code::Internal,
                            "container macvlan mode " + net::macvlanModeName(info->mode) +
                                " does not match expected value " + net::macvlanModeName(c.mode));
            return {};
        });
}

} // namespace tether::macvlan
