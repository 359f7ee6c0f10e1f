#include "plugins/sbr/sbr.hpp"

#include <cstdio>
#include <set>

#include "cni/json_fields.hpp"
#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/netns.hpp"
#include "libnet/route.hpp"
#include "libnet/rule.hpp"

namespace tether::sbr {

using net::Family;
using net::IpPrefix;

namespace {

constexpr uint32_t kFirstTable = 100;

struct Config {
    std::optional<uint32_t> table;
};

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    Config cfg;
    if (auto t = TRY(cni::fields::optInt(args.conf.raw, "table", ""))) {
        if (*t < 1 || *t > 0xFFFFFFFFLL || *t == 253 || *t == 254 || *t == 255)
            return fail(Code::InvalidConfig,
                        "table: " + std::to_string(*t) + " is not a usable routing table id");
        cfg.table = uint32_t(*t);
    }
    return cfg;
}

// The addresses prevResult gives to CNI_IFNAME (ips[].interface pointing at it).
std::vector<IpPrefix> ifaceIps(const cni::CmdArgs& args, const cni::Result& prev) {
    std::vector<IpPrefix> out;
    for (const auto& ip : prev.ips) {
        if (!ip.interface || *ip.interface < 0 || size_t(*ip.interface) >= prev.interfaces.size())
            continue;
        if (prev.interfaces[size_t(*ip.interface)].name != args.ifname) continue;
        if (auto p = IpPrefix::parse(ip.address)) out.push_back(*p);
    }
    return out;
}

std::optional<net::IpAddress> gatewayOf(const cni::Result& prev, const IpPrefix& p) {
    for (const auto& ip : prev.ips)
        if (IpPrefix::parse(ip.address) == p && !ip.gateway.empty())
            return net::IpAddress::parse(ip.gateway);
    return std::nullopt;
}

// Table ids referenced by any rule or route, both families.
Expected<std::set<uint32_t>> usedTables(net::NetlinkSocket& nl) {
    std::set<uint32_t> used;
    for (Family f : {Family::V4, Family::V6}) {
        for (const auto& r : TRY(net::listRules(nl, f)))
            used.insert(r.table);
        for (const auto& r : TRY(net::listRoutes(nl, f, RT_TABLE_UNSPEC)))
            used.insert(r.table);
    }
    return used;
}

IpPrefix hostPrefix(const IpPrefix& p) {
    return IpPrefix(p.address(), p.family() == Family::V4 ? 32 : 128);
}

Status ignoreConflict(Status st) {
    if (!st && st.error().code == Code::Conflict) return {};
    return st;
}

Status route(const cni::CmdArgs& args, const cni::Result& prev, const Config& cfg) {
    const auto ips = ifaceIps(args, prev);
    if (ips.empty()) return {};
    net::Netns ns = TRY(net::Netns::open(args.netns));
    net::NetlinkSocket nl = TRY(net::NetlinkSocket::openIn(ns));
    net::LinkInfo link = TRY(net::getLink(nl, args.ifname));
    std::vector<net::Route> mainRoutes;
    for (Family f : {Family::V4, Family::V6})
        for (auto& r : TRY(net::listRoutes(nl, f, RT_TABLE_MAIN, link.index)))
            mainRoutes.push_back(std::move(r));
    std::set<uint32_t> used = TRY(usedTables(nl));
    uint32_t table = cfg.table.value_or(kFirstTable);
    for (const auto& ip : ips) {
        if (!cfg.table)
            while (used.contains(table))
                ++table;
        used.insert(table);
        TRY(net::addRule(nl, {ip.family(), hostPrefix(ip), table, 0}));
        if (auto gw = gatewayOf(prev, ip)) {
            net::Route def = net::defaultRoute(*gw, link.index);
            def.table = table;
            TRY(ignoreConflict(net::addRoute(nl, def)));
        }
        for (net::Route r : mainRoutes) {
            r.table = table;
            TRY(ignoreConflict(net::addRoute(nl, r)));
        }
    }
    for (const auto& r : mainRoutes)
        TRY(net::deleteRoute(nl, r));
    return {};
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    Config cfg = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "sbr: must be called as a chained plugin (no prevResult)");
    TRY(route(args, *args.conf.prevResult, cfg));
    return *args.conf.prevResult;
}

Status cmdDel(const cni::CmdArgs& args) {
    TRY(parseConfig(args));
    if (args.netns.empty()) return {};
    auto ns = TRY(net::Netns::openIfExists(args.netns));
    if (!ns) return {};
    net::NetlinkSocket nl = TRY(net::NetlinkSocket::openIn(*ns));
    auto link = TRY(net::findLink(nl, args.ifname));
    if (!link) return {};
    std::optional<Error> first;
    auto keep = [&](Status st) {
        if (!st && !first) first = std::move(st).error();
    };
    for (Family f : {Family::V4, Family::V6}) {
        auto addrs = net::listAddresses(nl, link->index, f);
        auto rules = net::listRules(nl, f);
        if (!addrs || !rules) {
            keep(!addrs ? Status(std::unexpected(addrs.error()))
                        : Status(std::unexpected(rules.error())));
            continue;
        }
        for (const auto& rule : *rules) {
            bool ours = false;
            for (const auto& a : *addrs)
                ours = ours || (rule.src && *rule.src == hostPrefix(a.prefix));
            if (!ours) continue;
            auto del = net::deleteRule(nl, rule);
            if (!del) keep(std::unexpected(del.error()));
            for (Family rf : {Family::V4, Family::V6}) {
                auto routes = net::listRoutes(nl, rf, rule.table, link->index);
                if (!routes) continue;
                for (const auto& r : *routes)
                    if (auto d = net::deleteRoute(nl, r); !d) keep(std::unexpected(d.error()));
            }
        }
    }
    if (first) return std::unexpected(std::move(*first));
    return {};
}

Status cmdCheck(const cni::CmdArgs& args) {
    TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "sbr: must be called as a chained plugin (no prevResult)");
    net::Netns ns = TRY(net::Netns::open(args.netns));
    net::NetlinkSocket nl = TRY(net::NetlinkSocket::openIn(ns));
    for (const auto& ip : ifaceIps(args, *args.conf.prevResult)) {
        bool found = false;
        for (const auto& r : TRY(net::listRules(nl, ip.family())))
            found = found || (r.src && *r.src == hostPrefix(ip));
        if (!found)
            return fail(Code::Internal,
                        "sbr: no rule from " + ip.address().str() + " on " + args.ifname);
    }
    return {};
}

cni::PluginFuncs pluginFuncs() {
    return cni::PluginFuncs{.add = cmdAdd, .del = cmdDel, .check = cmdCheck};
}

} // namespace tether::sbr
