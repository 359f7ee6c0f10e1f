#include <cerrno>
#include <optional>
#include <thread>

#include "base/fault_point.hpp"
#include "base/log.hpp"
#include "base/undo_stack.hpp"
#include "cni/invoke.hpp"
#include "libnet/addr.hpp"
#include "libnet/bridge.hpp"
#include "libnet/link.hpp"
#include "libnet/sysctl.hpp"
#include "libnet/veth.hpp"
#include "plugins/bridge/bridge.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/bridge/spoofcheck.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/iface/nat.hpp"
#include "plugins/iface/pending_ipam.hpp"

namespace tether::bridge {

using net::Family;
using net::IpAddress;
using net::IpPrefix;

namespace {

constexpr int kContainerIndex = 2; // result.interfaces: [bridge, host veth, container]

// The kernel's "Exchange full" when enslaving says the bridge has no free port number left.
Status explainFullBridge(Status st, const net::LinkInfo& br) {
    if (st || st.error().errnum != EXFULL) return st;
    return fail(Code::Internal,
                "bridge " + br.name + " is full: the kernel allows 1023 ports per bridge (" +
                    st.error().msg + ")",
                "use another bridge (key \"bridge\") for further containers");
}

Status attachPort(net::NetlinkSocket& host, const Config& c, const net::LinkInfo& br,
                  const net::LinkInfo& hostVeth);

Status configurePort(net::NetlinkSocket& host, const Config& c, const net::LinkInfo& br,
                     const net::LinkInfo& hostVeth) {
    return explainFullBridge(attachPort(host, c, br, hostVeth), br);
}

Status attachPort(net::NetlinkSocket& host, const Config& c, const net::LinkInfo& br,
                  const net::LinkInfo& hostVeth) {
    // Before the port goes up: no IPv6 address of its own (a bridge port needs none; without one
    // it sends no DAD/MLD packets, which the bridge would flood to every other port — O(ports)
    // work per new container) and no router advertisements.
    (void)net::setLinkAfConf(host, hostVeth.index, {.noIpv6LinkLocal = true});
    (void)net::setAcceptRa(hostVeth.name, 0);
    const bool plainPort = !c.hairpinMode && !c.portIsolation && c.vlan == 0 && c.vlanTrunk.empty();
    if (plainPort) return net::setLinkMasterUp(host, hostVeth.index, br.index);
    TRY(net::setLinkMaster(host, hostVeth.index, br.index));
    if (c.hairpinMode || c.portIsolation)
        TRY(net::setBridgePort(host, hostVeth.index,
                               {.hairpin = c.hairpinMode ? std::optional(true) : std::nullopt,
                                .isolated = c.portIsolation ? std::optional(true) : std::nullopt,
                                .learning = std::nullopt}));
    if (c.vlan != 0) {
        TRY(net::addBridgeVlan(host, hostVeth.index,
                               {.vid = uint16_t(c.vlan), .pvid = true, .untagged = true}));
    }
    for (const auto& r : c.vlanTrunk)
        for (int id = r.minId; id <= r.maxId; ++id)
            TRY(net::addBridgeVlan(host, hostVeth.index, {.vid = uint16_t(id)}));
    if ((c.vlan != 0 || !c.vlanTrunk.empty()) && !c.preserveDefaultVlan)
        TRY(net::deleteBridgeVlan(host, hostVeth.index, 1));
    return net::setLinkUp(host, hostVeth.index, true);
}

// The gateway of a VLAN, as the reference makes it: a veth pair in the host whose end
// "<bridge>.<vlan>" holds the gateway address and whose other end is a bridge port with the VLAN
// as PVID, untagged. With VLAN filtering the bridge device itself is not on the container's VLAN,
// so an address on the bridge would be unreachable from the container. Reused when it exists.
Expected<net::LinkInfo> ensureVlanGateway(net::NetlinkSocket& host, const Config& c,
                                          const net::LinkInfo& br) {
    const std::string name = c.bridge + "." + std::to_string(c.vlan);
    if (auto st = net::validateIfName(name); !st)
        return fail(Code::InvalidConfig,
                    "VLAN gateway interface name \"" + name +
                        "\" is invalid (bridge name too long)",
                    st.error().msg);
    if (auto existing = TRY(net::findLink(host, std::string_view(name)))) return *existing;
    auto pair = TRY(net::createVeth(host, host, {.containerName = name, .mtu = br.mtu}));
    Config port = c;
    port.hairpinMode = false;
    port.portIsolation = false;
    port.vlanTrunk.clear();
    auto st = configurePort(host, port, br, pair.host);
    if (st) st = net::setLinkUp(host, pair.container.index, true);
    if (!st) {
        (void)net::deleteLink(host, pair.host.index);
        return std::unexpected(st.error().wrap("set up VLAN gateway " + name));
    }
    return pair.container;
}

// Fills missing gateways (subnet + 1) when the bridge is the gateway and adds default routes.
Status completeGateways(const Config& c, cni::Result& r) {
    bool defaultV4 = false, defaultV6 = false;
    for (const auto& route : r.routes) {
        if (route.dst == "0.0.0.0/0" && !route.gw.empty()) defaultV4 = true;
        if (route.dst == "::/0" && !route.gw.empty()) defaultV6 = true;
    }
    for (auto& ip : r.ips) {
        ip.interface = kContainerIndex;
        auto p = IpPrefix::parse(ip.address);
        if (!p)
            return fail(Code::DecodeFailure,
                        "IPAM returned invalid address \"" + ip.address + "\"");
        if (ip.gateway.empty() && c.isGateway) ip.gateway = p->network().next().str();
        if (!c.isDefaultGateway || ip.gateway.empty()) continue;
        bool& have = p->family() == Family::V4 ? defaultV4 : defaultV6;
        if (have) continue;
        r.routes.push_back(
            {.dst = p->family() == Family::V4 ? "0.0.0.0/0" : "::/0", .gw = ip.gateway});
        have = true;
    }
    return {};
}

// Puts each gateway on the bridge. Another address of the same subnet already there is a
// conflict unless forceAddress, which replaces it.
Status ensureGatewayAddresses(net::NetlinkSocket& host, const Config& c, const net::LinkInfo& br,
                              const cni::Result& r) {
    for (const auto& ip : r.ips) {
        if (ip.gateway.empty()) continue;
        auto p = *IpPrefix::parse(ip.address);
        IpPrefix gw(*IpAddress::parse(ip.gateway), p.length());
        auto existing = TRY(net::listAddresses(host, br.index, gw.family()));
        bool present = false;
        for (const auto& a : existing) {
            if (a.prefix == gw) {
                present = true;
                continue;
            }
            if (!a.prefix.masked().contains(gw.address()) &&
                !gw.masked().contains(a.prefix.address()))
                continue;
            if (gw.family() == Family::V6) continue; // several v6 addresses per subnet are normal
            if (!c.forceAddress)
                return fail(Code::Conflict, "bridge " + br.name + " already has an IP address " +
                                                a.prefix.str() + " different from " + gw.str());
            TRY(net::deleteAddress(host, br.index, a.prefix));
        }
        if (present) continue;
        net::Address a{.ifindex = br.index, .prefix = gw};
        if (gw.family() == Family::V6) a.flags |= net::kAddrNoDad;
        auto st = net::addAddress(host, a);
        if (!st && st.error().errnum != EEXIST)
            return std::unexpected(st.error().wrap("add gateway " + gw.str() + " to " + br.name));
        TRY(net::setForwarding(gw.family(), true));
    }
    return {};
}

// Inside the container, over netlink (no netns entry, no procfs): gratuitous ARP on address
// changes, and — on a network that gives the container no IPv6 address — no IPv6 link-local
// address either (as Docker does). Otherwise every new container's DAD/MLD/RS packets are flooded
// by the bridge to every other port, and ADD slows down with the number of containers.
void containerLinkConf(net::NetlinkSocket& csock, int ifindex, const cni::Result& r) {
    bool hasV6 = false;
    for (const auto& ip : r.ips)
        hasV6 = hasV6 || ip.address.find(':') != std::string::npos;
    (void)net::setLinkAfConf(
        csock, ifindex,
        {.arpNotify = true, .noIpv6LinkLocal = hasV6 ? std::nullopt : std::optional(true)});
}

// The container side once IPAM has answered: its result completed with gateways, the
// container's sysctls, addresses, link up and routes. Runs on its own thread while the host side
// attaches the port; `ipam` is taken (the caller then owns releasing the lease).
Expected<cni::Result> configureContainer(const Config& c, const cni::CmdArgs& args,
                                         plugin::PendingIpamAdd& ipam, net::NetlinkSocket& csock,
                                         const net::Netns& cns, const net::LinkInfo& container,
                                         bool& leaseHeld) {
    auto result = TRY(ipam.take());
    leaseHeld = true;
    TRY(completeGateways(c, result));
    plugin::IfaceConfig ifc{.ifindex = container.index,
                            .ifname = args.ifname,
                            .resultIndex = kContainerIndex,
                            .dad = c.enableDad};
    containerLinkConf(csock, container.index, result);
    TRY(plugin::configureIface(csock, cns, result, ifc));
    TETHER_FAULT_POINT("bridge.after-address");
    return result;
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    log::debug("bridge={} ipam={} isGateway={} ipMasq={} mtu={}", c.bridge, args.conf.ipamType,
               c.isGateway, c.ipMasq, c.mtu);
    // IPAM runs first, on its own thread (in-process for our host-local, else a process), while
    // the bridge and the veth are made. Declared before `undo`, it outlives it: a lease granted
    // to an ADD that fails before take() is released by its destructor.
    std::optional<plugin::PendingIpamAdd> ipam;
    if (!args.conf.ipamType.empty()) {
        TRY(plugin::PendingIpamAdd::validate(args));
        ipam.emplace(args);
    }
    auto cns = TRY(net::Netns::open(args.netns));
    auto host = TRY(net::NetlinkSocket::open());
    auto csock = TRY(net::NetlinkSocket::openIn(cns));
    UndoStack undo;

    const auto br =
        TRY(net::ensureBridge(host, {.name = c.bridge,
                                     .mtu = c.mtu,
                                     .promisc = c.promiscMode,
                                     .vlanFiltering = c.vlan != 0 || !c.vlanTrunk.empty()}));
    // Pin the bridge MAC: otherwise the kernel gives the bridge the lowest MAC of its ports and
    // it changes as containers come and go (the reference does the same).
    log::debug("bridge {} ready (index {})", br.name, br.index);
    const bool macPinned = c.isGateway && !br.mac.empty();
    if (macPinned) TRY(net::setLinkMac(host, br.index, br.mac));
    TETHER_FAULT_POINT("bridge.after-bridge");
    auto pair = TRY(net::createVeth(host, csock,
                                    {.containerName = args.ifname,
                                     .containerNetns = &cns,
                                     .mtu = c.mtu,
                                     .containerMac = c.mac}));
    const int hostIndex = pair.host.index;
    log::debug("veth {} <-> {} created", pair.host.name, args.ifname);
    undo.push([&host, hostIndex] { (void)net::deleteLink(host, hostIndex); });
    TETHER_FAULT_POINT("bridge.after-veth");

    // The two namespaces are configured at once: the container side (after IPAM) on a thread,
    // the host side (port, spoof check) here. Each uses its own netlink socket.
    std::optional<Expected<cni::Result>> containerSide;
    bool leaseHeld = false;
    std::thread containerThread;
    if (ipam)
        containerThread = std::thread([&] {
            containerSide.emplace(
                configureContainer(c, args, *ipam, csock, cns, pair.container, leaseHeld));
        });
    struct Joiner {
        std::thread& t;
        ~Joiner() {
            if (t.joinable()) t.join();
        }
    } joiner{containerThread};
    Status hostSide = configurePort(host, c, br, pair.host);
    TETHER_FAULT_POINT("bridge.after-port");
    if (!hostSide)
        hostSide =
            std::unexpected(hostSide.error().wrap("attach " + pair.host.name + " to " + c.bridge));
    if (hostSide && c.macspoofchk) {
        SpoofCheck sc{.containerId = args.containerId,
                      .ifname = args.ifname,
                      .hostVeth = pair.host.name,
                      .mac = pair.container.mac};
        hostSide = setupSpoofCheck(sc);
        if (hostSide) undo.push([sc] { (void)teardownSpoofCheck(sc); });
    }
    if (containerThread.joinable()) containerThread.join();
    // A lease the container side took is released by undo from here on.
    if (leaseHeld)
        undo.push([&args] { (void)cni::delegateDel(args.conf.ipamType, args.stdinData); });
    TRY(hostSide);

    cni::Result result;
    std::optional<net::LinkInfo> vlanGateway;
    if (ipam) {
        // The thread always stores its outcome; an empty one would be a bug, not a crash.
        if (!containerSide)
            return fail(Code::Internal, "container side of " + args.ifname + " left no result");
        result = TRY(std::move(*containerSide));
        if (log::enabled(log::Level::Debug))
            log::debug("container side configured: {}", cni::addressList(result));
        if (c.isGateway && c.vlan != 0) {
            vlanGateway = TRY(ensureVlanGateway(host, c, br));
            TRY(ensureGatewayAddresses(host, c, *vlanGateway, result));
        } else if (c.isGateway) {
            TRY(ensureGatewayAddresses(host, c, br, result));
        }
        if (c.ipMasq) {
            TRY(plugin::setupNat(args, c.nat(), result));
            log::debug("masquerade set up");
            TETHER_FAULT_POINT("bridge.after-masq");
            undo.push([&args, &c] { (void)plugin::teardownNat(args, c.nat()); });
        }
    } else if (!c.disableContainerInterface) {
        TRY(net::setLinkUp(csock, pair.container.index, true));
    }

    // Read back what may have changed: an unpinned bridge MAC follows its lowest port MAC. A
    // port's own MAC does not change when it joins.
    auto brNow = macPinned ? br : TRY(net::findLink(host, br.index)).value_or(br);
    result.interfaces = {{.name = brNow.name, .mac = brNow.mac},
                         {.name = pair.host.name, .mac = pair.host.mac},
                         {.name = args.ifname, .mac = pair.container.mac, .sandbox = args.netns}};
    if (vlanGateway)
        result.interfaces.push_back({.name = vlanGateway->name, .mac = vlanGateway->mac});
    if (args.conf.dns && !args.conf.dns->empty()) result.dns = *args.conf.dns;
    result.cniVersion = args.conf.cniVersion;
    TETHER_FAULT_POINT("bridge.before-result");
    undo.commit();
    return result;
}

cni::PluginFuncs pluginFuncs() {
    return {.add = cmdAdd, .del = cmdDel, .check = cmdCheck, .status = cmdStatus, .gc = cmdGc};
}

} // namespace tether::bridge
