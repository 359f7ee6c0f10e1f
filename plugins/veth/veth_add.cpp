#include <cerrno>

#include "base/log.hpp"
#include "base/undo_stack.hpp"
#include "cni/invoke.hpp"
#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/route.hpp"
#include "libnet/sysctl.hpp"
#include "libnet/veth.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/iface/pending_ipam.hpp"
#include "plugins/veth/veth_plugin.hpp"

namespace tether::veth {

using net::IpAddress;
using net::IpPrefix;

namespace {

constexpr int kContainerIndex = 1; // result.interfaces: [host veth, container]

Status addIgnoringExisting(net::NetlinkSocket& sock, const net::Route& r, const std::string& what) {
    auto st = net::addRoute(sock, r);
    if (!st && st.error().errnum != EEXIST) return std::unexpected(st.error().wrap(what));
    return {};
}

// Inside the container: "<gw> dev eth0 scope link src <ip>", then "<subnet> via <gw> src <ip>",
// so the whole subnet (and the default route) goes through the host end.
Status containerRoutes(net::NetlinkSocket& sock, int ifindex, const IpPrefix& ip,
                       const IpAddress& gw) {
    net::Route toGw{.dst = IpPrefix(gw, gw.bits()), .ifindex = ifindex, .src = ip.address()};
    toGw.scope = RT_SCOPE_LINK;
    TRY(addIgnoringExisting(sock, toGw, "add route to gateway " + gw.str()));
    if (ip.length() == ip.address().bits()) return {};
    net::Route subnet{.dst = ip.masked(), .gw = gw, .ifindex = ifindex, .src = ip.address()};
    return addIgnoringExisting(sock, subnet, "add route " + ip.masked().str() + " via " + gw.str());
}

// On the host: the gateway address on the host end and "<ip>/32 dev <host veth>".
Status hostSide(net::NetlinkSocket& host, const net::LinkInfo& hostVeth, const IpPrefix& ip,
                const IpAddress& gw) {
    net::Address a{.ifindex = hostVeth.index, .prefix = IpPrefix(gw, gw.bits())};
    if (!gw.isV4()) a.flags |= net::kAddrNoDad;
    auto st = net::addAddress(host, a);
    if (!st && st.error().errnum != EEXIST)
        return std::unexpected(st.error().wrap("add " + gw.str() + " to " + hostVeth.name));
    net::Route r{.dst = IpPrefix(ip.address(), ip.address().bits()), .ifindex = hostVeth.index};
    r.scope = RT_SCOPE_LINK;
    return addIgnoringExisting(host, r, "add host route " + ip.address().str());
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    TRY(plugin::PendingIpamAdd::validate(args));
    auto cns = TRY(net::Netns::open(args.netns));
    auto host = TRY(net::NetlinkSocket::open());
    auto csock = TRY(net::NetlinkSocket::openIn(cns));
    UndoStack undo;
    // IPAM is another process: it runs while the veth is created. Declared after `undo`, it is
    // destroyed first: a lease granted to an ADD that fails is released.
    plugin::PendingIpamAdd ipam(args);
    auto pair = TRY(net::createVeth(
        host, csock, {.containerName = args.ifname, .containerNetns = &cns, .mtu = c.mtu}));
    const int hostIndex = pair.host.index;
    log::debug("veth {} <-> {} created (ipam {})", pair.host.name, args.ifname, args.conf.ipamType);
    undo.push([&host, hostIndex] { (void)net::deleteLink(host, hostIndex); });
    (void)net::setAcceptRa(pair.host.name, 0);
    // Routed point-to-point end: duplicate address detection would only delay the first packets.
    (void)net::writeSysctl("net/ipv6/conf/" + pair.host.name + "/accept_dad", "0");

    cni::Result result = TRY(ipam.take());
    undo.push([&args] { (void)cni::delegateDel(args.conf.ipamType, args.stdinData); });
    if (result.ips.empty()) return fail(Code::Internal, "IPAM plugin returned no IP addresses");
    if (log::enabled(log::Level::Debug)) log::debug("IPAM: {}", cni::addressList(result));
    std::vector<std::pair<IpPrefix, IpAddress>> ips;
    for (auto& ip : result.ips) {
        ip.interface = kContainerIndex;
        auto p = IpPrefix::parse(ip.address);
        if (!p)
            return fail(Code::DecodeFailure,
                        "IPAM returned invalid address \"" + ip.address + "\"");
        if (ip.gateway.empty()) ip.gateway = p->network().next().str();
        auto gw = IpAddress::parse(ip.gateway);
        if (!gw || gw->family() != p->family())
            return fail(Code::DecodeFailure,
                        "IPAM returned invalid gateway \"" + ip.gateway + "\"");
        ips.emplace_back(*p, *gw);
        TRY(net::setForwarding(p->family(), true));
    }

    TRY(net::setLinkUp(host, hostIndex, true));

    plugin::IfaceConfig ifc{.ifindex = pair.container.index,
                            .ifname = args.ifname,
                            .resultIndex = kContainerIndex,
                            .skipSubnetRoute = true,
                            .withRoutes = false};
    TRY(plugin::configureIface(csock, cns, result, ifc));
    for (const auto& [ip, gw] : ips) {
        TRY(containerRoutes(csock, pair.container.index, ip, gw));
        TRY(hostSide(host, pair.host, ip, gw));
    }
    TRY(plugin::addResultRoutes(csock, cns, result, ifc));
    log::debug("addresses and routes configured on both ends");
    if (c.nat.ipMasq) {
        TRY(plugin::setupNat(args, c.nat, result));
        log::debug("masquerade set up");
        undo.push([&args, &c] { (void)plugin::teardownNat(args, c.nat); });
    }

    auto hostNow = TRY(net::findLink(host, hostIndex)).value_or(pair.host);
    result.interfaces = {{.name = hostNow.name, .mac = hostNow.mac},
                         {.name = args.ifname, .mac = pair.container.mac, .sandbox = args.netns}};
    if (args.conf.dns && !args.conf.dns->empty()) result.dns = *args.conf.dns;
    result.cniVersion = args.conf.cniVersion;
    undo.commit();
    return result;
}

} // namespace tether::veth
