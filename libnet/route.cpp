#include "libnet/route.hpp"

#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "libnet/nl_ip_attr.hpp"

namespace tether::net {

namespace {

using detail::afOf;
using detail::getIp;
using detail::putIp;

std::string describe(const Route& r) {
    std::string s = r.dst.masked().str();
    if (r.gw) s += " via " + r.gw->str();
    if (r.ifindex) s += " dev #" + std::to_string(r.ifindex);
    if (r.table != RT_TABLE_MAIN) s += " table " + std::to_string(r.table);
    return s;
}

NlMsg buildRoute(int type, int flags, const Route& r, bool forDelete) {
    rtmsg rtm{};
    rtm.rtm_family = static_cast<uint8_t>(afOf(r.dst.family()));
    rtm.rtm_dst_len = static_cast<uint8_t>(r.dst.length());
    rtm.rtm_table = static_cast<uint8_t>(r.table < 256 ? r.table : RT_TABLE_UNSPEC);
    rtm.rtm_type = r.type;
    if (forDelete) {
        // Match any protocol/scope unless the caller pinned the scope.
        rtm.rtm_protocol = 0;
        rtm.rtm_scope = r.scope.value_or(RT_SCOPE_NOWHERE);
    } else {
        rtm.rtm_protocol = r.protocol;
        rtm.rtm_scope = r.scope.value_or(!r.gw && r.ifindex ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
    }
    if (r.onlink) rtm.rtm_flags |= RTNH_F_ONLINK;
    NlMsg msg = makeMessage(type, flags, &rtm, sizeof(rtm));
    nl_msg* m = msg.get();
    if (r.dst.length() > 0) putIp(m, RTA_DST, r.dst.network());
    if (r.gw) putIp(m, RTA_GATEWAY, *r.gw);
    if (r.ifindex) nla_put_u32(m, RTA_OIF, static_cast<uint32_t>(r.ifindex));
    if (r.src) putIp(m, RTA_PREFSRC, *r.src);
    if (r.metric) nla_put_u32(m, RTA_PRIORITY, r.metric);
    nla_put_u32(m, RTA_TABLE, r.table);
    if (!forDelete && (r.mtu || r.advmss)) {
        nlattr* metrics = nla_nest_start(m, RTA_METRICS);
        if (r.mtu) nla_put_u32(m, RTAX_MTU, r.mtu);
        if (r.advmss) nla_put_u32(m, RTAX_ADVMSS, r.advmss);
        nla_nest_end(m, metrics);
    }
    return msg;
}

Status checkFamilies(const Route& r) {
    if ((r.gw && r.gw->family() != r.dst.family()) || (r.src && r.src->family() != r.dst.family()))
        return fail(Code::InvalidConfig, "route " + describe(r) + ": mixed address families");
    return {};
}

} // namespace

Route defaultRoute(const IpAddress& gw, int ifindex) {
    Route r;
    static constexpr uint8_t kAny[16] = {};
    r.dst = IpPrefix(IpAddress::fromBytes(gw.family(), kAny), 0);
    r.gw = gw;
    r.ifindex = ifindex;
    return r;
}

Status addRoute(NetlinkSocket& sock, const Route& route) {
    TRY(checkFamilies(route));
    auto st = sock.transact(buildRoute(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route, false),
                            "add route " + describe(route));
    if (!st && st.error().errnum == EEXIST) {
        Error e = std::move(st).error();
        e.code = Code::Conflict;
        return std::unexpected(std::move(e));
    }
    return st;
}

Status replaceRoute(NetlinkSocket& sock, const Route& route) {
    TRY(checkFamilies(route));
    return sock.transact(buildRoute(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route, false),
                         "replace route " + describe(route));
}

Expected<bool> deleteRoute(NetlinkSocket& sock, const Route& route) {
    TRY(checkFamilies(route));
    auto st =
        sock.transact(buildRoute(RTM_DELROUTE, 0, route, true), "delete route " + describe(route));
    if (!st) {
        int e = st.error().errnum;
        if (e == ESRCH || e == ENOENT || e == ENODEV) return false;
        return std::unexpected(std::move(st).error());
    }
    return true;
}

Expected<std::vector<Route>> listRoutes(NetlinkSocket& sock, Family family, uint32_t table,
                                        int ifindex) {
    rtmsg rtm{};
    rtm.rtm_family = static_cast<uint8_t>(afOf(family));
    NlMsg msg = makeMessage(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
    if (table != RT_TABLE_UNSPEC) nla_put_u32(msg.get(), RTA_TABLE, table);
    std::vector<Route> out;
    TRY(sock.query(msg, "list routes", [&](const nlmsghdr* hdr) {
        if (hdr->nlmsg_type != RTM_NEWROUTE) return;
        auto* h = const_cast<nlmsghdr*>(hdr);
        auto* m = static_cast<rtmsg*>(nlmsg_data(h));
        if (m->rtm_family != afOf(family) || (m->rtm_flags & RTM_F_CLONED)) return;
        nlattr* tb[RTA_MAX + 1] = {};
        if (nlmsg_parse(h, sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0) return;
        Route r;
        r.table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : m->rtm_table;
        if (table != RT_TABLE_UNSPEC && r.table != table) return;
        r.ifindex = tb[RTA_OIF] ? static_cast<int>(nla_get_u32(tb[RTA_OIF])) : 0;
        if (ifindex && r.ifindex != ifindex) return;
        auto dst = getIp(tb[RTA_DST], family);
        if (!dst) dst = family == Family::V4 ? IpAddress::parse("0.0.0.0") : IpAddress::parse("::");
        r.dst = IpPrefix(*dst, m->rtm_dst_len);
        r.gw = getIp(tb[RTA_GATEWAY], family);
        r.src = getIp(tb[RTA_PREFSRC], family);
        r.scope = m->rtm_scope;
        r.metric = tb[RTA_PRIORITY] ? nla_get_u32(tb[RTA_PRIORITY]) : 0;
        r.type = m->rtm_type;
        r.protocol = m->rtm_protocol;
        r.onlink = m->rtm_flags & RTNH_F_ONLINK;
        if (tb[RTA_METRICS]) {
            nlattr* mx[RTAX_MAX + 1] = {};
            if (nla_parse_nested(mx, RTAX_MAX, tb[RTA_METRICS], nullptr) == 0) {
                if (mx[RTAX_MTU]) r.mtu = nla_get_u32(mx[RTAX_MTU]);
                if (mx[RTAX_ADVMSS]) r.advmss = nla_get_u32(mx[RTAX_ADVMSS]);
            }
        }
        out.push_back(r);
    }));
    return out;
}

} // namespace tether::net
