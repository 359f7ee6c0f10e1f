#include "plugins/iface/container_iface.hpp"

#include <cerrno>
#include <optional>

#include "base/fault_point.hpp"
#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/route.hpp"
#include "libnet/sysctl.hpp"

namespace tether::plugin {

using net::Family;
using net::IpAddress;
using net::IpPrefix;

Expected<std::vector<IpPrefix>> ipsFor(const cni::Result& result, int resultIndex) {
    std::vector<IpPrefix> out;
    for (const auto& ip : result.ips) {
        if (!ip.interface || *ip.interface != resultIndex) continue;
        auto p = IpPrefix::parse(ip.address);
        if (!p)
            return fail(Code::DecodeFailure, "invalid address \"" + ip.address + "\" in result");
        out.push_back(*p);
    }
    return out;
}

std::optional<IpAddress> firstGateway(const cni::Result& result, Family family) {
    for (const auto& ip : result.ips) {
        if (ip.gateway.empty()) continue;
        auto gw = IpAddress::parse(ip.gateway);
        if (gw && gw->family() == family) return gw;
    }
    return std::nullopt;
}

namespace {

Expected<net::Route> routeFor(const cni::Route& r, const cni::Result& result, int ifindex) {
    auto dst = IpPrefix::parse(r.dst);
    if (!dst) return fail(Code::DecodeFailure, "invalid route dst \"" + r.dst + "\"");
    net::Route route;
    route.dst = dst->masked();
    route.ifindex = ifindex;
    if (!r.gw.empty()) {
        auto gw = IpAddress::parse(r.gw);
        if (!gw) return fail(Code::DecodeFailure, "invalid route gw \"" + r.gw + "\"");
        route.gw = *gw;
    } else {
        route.gw = firstGateway(result, dst->family());
    }
    if (r.priority) route.metric = uint32_t(*r.priority);
    if (r.table) route.table = uint32_t(*r.table);
    if (r.mtu) route.mtu = uint32_t(*r.mtu);
    if (r.advmss) route.advmss = uint32_t(*r.advmss);
    if (r.scope) route.scope = uint8_t(*r.scope);
    return route;
}

std::string routeText(const net::Route& r) {
    return r.dst.str() + (r.gw ? " via " + r.gw->str() : std::string());
}

} // namespace

Status configureIface(net::NetlinkSocket& sock, const net::Netns& ns, const cni::Result& result,
                      const IfaceConfig& cfg) {
    auto ips = TRY(ipsFor(result, cfg.resultIndex));
    bool haveV4 = false, haveV6 = false;
    for (const auto& p : ips)
        (p.family() == Family::V4 ? haveV4 : haveV6) = true;
    if (haveV6) {
        // IPv6 may be disabled per interface in a fresh netns; addresses need it on.
        (void)net::writeSysctl(ns, "net/ipv6/conf/" + cfg.ifname + "/disable_ipv6", "0");
        (void)net::writeSysctl(ns, "net/ipv6/conf/" + cfg.ifname + "/keep_addr_on_down", "1");
        if (!cfg.dad)
            (void)net::writeSysctl(ns, "net/ipv6/conf/" + cfg.ifname + "/accept_dad", "0");
    }
    for (const auto& p : ips) {
        net::Address a{.ifindex = cfg.ifindex, .prefix = p};
        if (p.family() == Family::V6 && !cfg.dad) a.flags |= net::kAddrNoDad;
        if (cfg.skipSubnetRoute) a.flags |= net::kAddrNoPrefixRoute;
        auto st = net::addAddress(sock, a);
        if (!st && st.error().errnum != EEXIST)
            return std::unexpected(st.error().wrap("add address " + p.str() + " to " + cfg.ifname));
    }
    TETHER_FAULT_POINT("iface.after-addresses");
    TRY(net::setLinkUp(sock, cfg.ifindex, true));
    if (cfg.withRoutes) TRY(addResultRoutes(sock, ns, result, cfg));
    return {};
}

Status addResultRoutes(net::NetlinkSocket& sock, const net::Netns& ns, const cni::Result& result,
                       const IfaceConfig& cfg) {
    auto ips = TRY(ipsFor(result, cfg.resultIndex));
    bool haveV4 = false, haveV6 = false;
    for (const auto& p : ips)
        (p.family() == Family::V4 ? haveV4 : haveV6) = true;
    for (const auto& r : result.routes) {
        auto route = TRY(routeFor(r, result, cfg.ifindex));
        if ((route.dst.family() == Family::V4 && !haveV4) ||
            (route.dst.family() == Family::V6 && !haveV6))
            continue;
        auto st = net::addRoute(sock, route);
        if (!st && st.error().errnum != EEXIST)
            return std::unexpected(
                st.error().wrap("add route " + routeText(route) + " in " + ns.path()));
    }
    return {};
}

Status checkIface(net::NetlinkSocket& sock, const cni::Result& result, const IfaceConfig& cfg) {
    auto want = TRY(ipsFor(result, cfg.resultIndex));
    auto have = TRY(net::listAddresses(sock, cfg.ifindex));
    for (const auto& p : want) {
        bool found = false;
        for (const auto& a : have)
            found = found || a.prefix == p;
        if (!found) return fail(Code::Internal, "address " + p.str() + " missing on " + cfg.ifname);
    }
    for (const auto& r : result.routes) {
        auto route = TRY(routeFor(r, result, cfg.ifindex));
        auto live = TRY(net::listRoutes(sock, route.dst.family(), RT_TABLE_UNSPEC));
        bool found = false;
        for (const auto& l : live)
            found = found || (l.dst == route.dst && l.gw == route.gw);
        if (!found) return fail(Code::Internal, "route " + routeText(route) + " missing");
    }
    return {};
}

Expected<size_t> prevResultInterface(const cni::Result& prev, const cni::CmdArgs& args) {
    std::optional<size_t> idx;
    for (size_t i = 0; i < prev.interfaces.size(); ++i)
        if (prev.interfaces[i].name == args.ifname && prev.interfaces[i].sandbox == args.netns)
            idx = i;
    if (!idx)
        return fail(Code::InvalidConfig,
                    "prevResult has no interface " + args.ifname + " in " + args.netns);
    return *idx;
}

} // namespace tether::plugin
