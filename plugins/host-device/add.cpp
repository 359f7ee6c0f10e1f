#include <linux/if_addr.h>

#include <optional>

#include "base/undo_stack.hpp"
#include "cni/invoke.hpp"
#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/link_dump.hpp"
#include "plugins/host-device/host_device.hpp"
#include "plugins/host-device/restore.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/iface/pending_ipam.hpp"
#include "plugins/iface/single_link.hpp"

namespace tether::hostdevice {

namespace {

constexpr int kContainerIndex = 0; // result.interfaces: [container]

// The addresses DEL puts back: global scope; IPv6 only permanent ones (SLAAC/DHCPv6 addresses
// come back by themselves).
Expected<std::vector<std::string>> hostAddresses(net::NetlinkSocket& host, int index) {
    std::vector<std::string> out;
    for (const auto& a : TRY(net::listAddresses(host, index))) {
        if (a.scope != RT_SCOPE_UNIVERSE) continue;
        if (!a.prefix.address().isV4() && !(a.flags & IFA_F_PERMANENT)) continue;
        out.push_back(a.prefix.str());
    }
    return out;
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    const bool l3 = !args.conf.ipamType.empty();
    TRY(plugin::validateAddressing(args));
    auto cns = TRY(net::Netns::open(args.netns));
    if (!c.pciBusId.empty() && hasDpdkDriver(c.pciBusId)) {
        // A device bound to a userspace driver has no netdev to move: nothing to do.
        cni::Result empty;
        empty.cniVersion = args.conf.cniVersion;
        return empty;
    }
    auto host = TRY(net::NetlinkSocket::open());
    auto csock = TRY(net::NetlinkSocket::openIn(cns));
    const auto dev = TRY(findHostDevice(host, c));
    TRY(plugin::refuseExistingIfname(csock, args));

    const Saved saved{.network = args.conf.name,
                      .containerId = args.containerId,
                      .ifname = args.ifname,
                      .name = dev.name,
                      .mac = dev.mac,
                      .alias = dev.alias,
                      .mtu = dev.mtu,
                      .up = dev.up,
                      .addresses = TRY(hostAddresses(host, dev.index))};
    const std::string path = statePath(c, args);
    UndoStack undo;
    std::optional<plugin::PendingIpamAdd> ipam;
    if (l3) ipam.emplace(args);
    TRY(writeSaved(path, saved));
    undo.push([path] { (void)removeSaved(path); });
    // The original name also goes on the device itself (as the reference does): a DEL that lost
    // the state file, or the reference's DEL, still knows what to rename it back to.
    TRY(net::setLinkAlias(host, dev.index, dev.name));
    undo.push([&] {
        if (auto l = net::findLink(csock, std::string_view(args.ifname)); l && *l)
            (void)moveToHost(csock, (*l)->index, saved.name, args.ifname);
        (void)restoreInHost(host, saved);
    });
    TRY(net::moveLinkToNetns(host, dev.index, cns, args.ifname));
    const auto link = TRY(net::getLink(csock, args.ifname));
    // The move took it down; like the reference, it is up in the container (also without IPAM).
    TRY(net::setLinkUp(csock, link.index, true));

    cni::Result result;
    if (l3) {
        result = TRY(plugin::takeIpamLease(*ipam, undo, args, kContainerIndex));
        TRY(plugin::configureIface(
            csock, cns, result,
            {.ifindex = link.index, .ifname = args.ifname, .resultIndex = kContainerIndex}));
        if (args.conf.dns && !args.conf.dns->empty()) result.dns = *args.conf.dns;
    }
    result.interfaces = {{.name = args.ifname, .mac = link.mac, .sandbox = args.netns}};
    result.cniVersion = args.conf.cniVersion;
    undo.commit();
    return result;
}

} // namespace tether::hostdevice
