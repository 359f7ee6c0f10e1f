#include "plugins/sbr/sbr.hpp"

#include <algorithm>
#include <set>

#include "base/undo_stack.hpp"
#include "cni/json_fields.hpp"
#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/netns.hpp"
#include "libnet/route.hpp"
#include "libnet/rule.hpp"

namespace tether::sbr {

using net::Family;
using net::IpAddress;
using net::IpPrefix;

namespace {

constexpr uint32_t kFirstTable = 100;

struct Config {
    std::optional<uint32_t> table;
};

bool reservedTable(uint32_t t) {
    return t == RT_TABLE_UNSPEC || t == RT_TABLE_DEFAULT || t == RT_TABLE_MAIN ||
           t == RT_TABLE_LOCAL;
}

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    Config cfg;
    if (auto t = TRY(cni::fields::optInt(args.conf.raw, "table", ""))) {
        if (*t < 1 || *t > 0xFFFFFFFFLL || reservedTable(uint32_t(*t)))
            return fail(Code::InvalidConfig,
                        "table: " + std::to_string(*t) +
                            " is not a usable routing table id (1-4294967295 but not 253-255)");
        cfg.table = uint32_t(*t);
    }
    return cfg;
}

Expected<const cni::Result*> requirePrev(const cni::CmdArgs& args) {
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig,
                    "prevResult: missing; sbr must be called as a chained plugin");
    return &*args.conf.prevResult;
}

// One address of CNI_IFNAME in prevResult, with its gateway.
struct IpCfg {
    IpPrefix prefix;
    std::optional<IpAddress> gateway;
};

// The addresses prevResult gives to CNI_IFNAME: as the reference, an IP without `interface` (or
// with an index outside `interfaces`) counts as belonging to it.
Expected<std::vector<IpCfg>> ifaceIps(const cni::CmdArgs& args, const cni::Result& prev) {
    std::vector<IpCfg> out;
    for (const auto& ip : prev.ips) {
        if (ip.interface && *ip.interface >= 0 && size_t(*ip.interface) < prev.interfaces.size() &&
            prev.interfaces[size_t(*ip.interface)].name != args.ifname)
            continue;
        auto p = IpPrefix::parse(ip.address);
        if (!p)
            return fail(Code::InvalidConfig, "prevResult.ips: bad address \"" + ip.address + "\"");
        IpCfg c{.prefix = *p, .gateway = std::nullopt};
        if (!ip.gateway.empty()) {
            c.gateway = IpAddress::parse(ip.gateway);
            if (!c.gateway)
                return fail(Code::InvalidConfig,
                            "prevResult.ips: bad gateway \"" + ip.gateway + "\"");
        }
        out.push_back(c);
    }
    return out;
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

uint32_t nextFree(const std::set<uint32_t>& used, uint32_t from) {
    while (used.contains(from) || reservedTable(from))
        ++from;
    return from;
}

IpPrefix hostPrefix(const IpAddress& a) {
    return IpPrefix(a, a.isV4() ? 32 : 128);
}

// The reference's choice of the interface routes that follow an address into its table: those
// whose preferred source or gateway lies in the address's subnet, and the generic ones (neither).
bool followsAddress(const net::Route& r, const IpPrefix& p) {
    if (!r.src && !r.gw) return true;
    return (r.src && p.contains(*r.src)) || (r.gw && p.contains(*r.gw));
}

Status ignoreConflict(Status st) {
    if (!st && st.error().code == Code::Conflict) return {};
    return st;
}

Status route(const cni::CmdArgs& args, const std::vector<IpCfg>& ips, const Config& cfg) {
    net::Netns ns = TRY(net::Netns::open(args.netns));
    net::NetlinkSocket nl = TRY(net::NetlinkSocket::openIn(ns));
    auto link = TRY(net::findLink(nl, args.ifname));
    if (!link)
        return fail(Code::InvalidConfig,
                    "interface " + args.ifname + " not found in " + args.netns);
    std::vector<net::Route> mainRoutes;
    for (Family f : {Family::V4, Family::V6})
        for (auto& r : TRY(net::listRoutes(nl, f, RT_TABLE_MAIN, link->index)))
            mainRoutes.push_back(r);
    const std::set<uint32_t> used = TRY(usedTables(nl));
    uint32_t table = cfg.table.value_or(nextFree(used, kFirstTable));
    // A failure midway takes back what this ADD did (rules, the routes it put in its tables,
    // main routes already deleted), so the container is as before.
    UndoStack undo;
    for (const auto& ip : ips) {
        const net::Rule rule{ip.prefix.family(), hostPrefix(ip.prefix.address()), table, 0};
        TRY(net::addRule(nl, rule));
        undo.push([&nl, rule] { (void)net::deleteRule(nl, rule); });
        if (ip.gateway) {
            net::Route def = net::defaultRoute(*ip.gateway, link->index);
            def.table = table;
            auto st = net::addRoute(nl, def);
            if (st) undo.push([&nl, def] { (void)net::deleteRoute(nl, def); });
            TRY(ignoreConflict(std::move(st)));
        }
        for (net::Route r : mainRoutes) {
            if (!followsAddress(r, ip.prefix)) continue;
            r.table = table;
            TRY(net::replaceRoute(nl, r));
            undo.push([&nl, r] { (void)net::deleteRoute(nl, r); });
        }
        table = nextFree(used, table + 1);
    }
    // Only now: several addresses of one subnet each need the subnet route while they copy it.
    for (const auto& r : mainRoutes) {
        TRY(net::deleteRoute(nl, r));
        undo.push([&nl, r] { (void)net::replaceRoute(nl, r); });
    }
    undo.commit();
    return {};
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    Config cfg = TRY(parseConfig(args));
    const cni::Result* prev = TRY(requirePrev(args));
    if (prev->ips.empty())
        return fail(Code::InvalidConfig,
                    "prevResult.ips: no IP addresses supplied on interface " + args.ifname);
    const auto ips = TRY(ifaceIps(args, *prev));
    if (!ips.empty()) TRY(route(args, ips, cfg));
    return *prev;
}

Status cmdDel(const cni::CmdArgs& args) {
    TRY(parseConfig(args));
    if (args.netns.empty()) return {};
    auto ns = TRY(net::Netns::openIfExists(args.netns));
    if (!ns) return {};
    net::NetlinkSocket nl = TRY(net::NetlinkSocket::openIn(*ns));
    auto link = TRY(net::findLink(nl, args.ifname));
    if (!link) return {};
    // Ours: rules whose source is an address of the link (what the reference removes), plus
    // the addresses prevResult gave it, in case one was removed from the link since ADD.
    std::vector<IpAddress> mine;
    for (Family f : {Family::V4, Family::V6})
        for (const auto& a : TRY(net::listAddresses(nl, link->index, f)))
            mine.push_back(a.prefix.address());
    if (args.conf.prevResult)
        if (auto ips = ifaceIps(args, *args.conf.prevResult))
            for (const auto& ip : *ips)
                mine.push_back(ip.prefix.address());
    std::optional<Error> first;
    auto keep = [&](Error e) {
        if (!first) first = std::move(e);
    };
    for (Family f : {Family::V4, Family::V6}) {
        auto rules = net::listRules(nl, f);
        if (!rules) {
            keep(std::move(rules).error());
            continue;
        }
        for (const auto& rule : *rules) {
            if (!rule.src || rule.src->length() != (f == Family::V4 ? 32 : 128)) continue;
            if (std::find(mine.begin(), mine.end(), rule.src->address()) == mine.end()) continue;
            if (auto del = net::deleteRule(nl, rule); !del) keep(std::move(del).error());
            if (reservedTable(rule.table)) continue;
            // The table's routes out of this link (the copies and the default route ADD made).
            for (Family rf : {Family::V4, Family::V6}) {
                auto routes = net::listRoutes(nl, rf, rule.table, link->index);
                if (!routes) continue;
                for (const auto& r : *routes)
                    if (auto d = net::deleteRoute(nl, r); !d) keep(std::move(d).error());
            }
        }
    }
    if (first) return std::unexpected(std::move(*first));
    return {};
}

Status cmdCheck(const cni::CmdArgs& args) {
    TRY(parseConfig(args));
    const cni::Result* prev = TRY(requirePrev(args));
    const auto ips = TRY(ifaceIps(args, *prev));
    if (ips.empty()) return {};
    net::Netns ns = TRY(net::Netns::open(args.netns));
    net::NetlinkSocket nl = TRY(net::NetlinkSocket::openIn(ns));
    for (const auto& ip : ips) {
        bool found = false;
        for (const auto& r : TRY(net::listRules(nl, ip.prefix.family())))
            found = found || (r.src && *r.src == hostPrefix(ip.prefix.address()));
        if (!found)
            return fail(Code::Internal,
                        "sbr: no rule from " + ip.prefix.address().str() + " for " + args.ifname);
    }
    return {};
}

cni::PluginFuncs pluginFuncs() {
    return cni::PluginFuncs{.add = cmdAdd, .del = cmdDel, .check = cmdCheck};
}

} // namespace tether::sbr
