#include "plugins/host-local/host_local.hpp"
#include "base/fault_point.hpp"

#include "base/error_list.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "base/log.hpp"
#include "cni/json_fields.hpp"
#include "ipam/allocator.hpp"
#include "ipam/disk_store.hpp"
#include "ipam/resolv_conf.hpp"
#include "plugins/host-local/config.hpp"

namespace tether::hostlocal {

using ipam::DiskStore;
using ipam::Owner;
using nlohmann::json;

namespace {

Expected<Config> loadConfig(const cni::CmdArgs& args) {
    return parseConfig(args.conf.raw, args.conf.cniVersion, args.args);
}

Expected<std::unique_ptr<DiskStore>> openStore(const Config& cfg, bool create,
                                               const Owner* adding = nullptr) {
    return DiskStore::open({.dataDir = cfg.dataDir,
                            .network = cfg.name,
                            .create = create,
                            .prepareFor = adding,
                            .prepareLeases = adding ? cfg.rangeSets.size() : 0});
}

// Opening without creating: a missing directory means "no reservations" (nullptr).
Expected<std::unique_ptr<DiskStore>> openExisting(const Config& cfg) {
    auto store = openStore(cfg, false);
    if (!store && store.error().errnum == ENOENT) return std::unique_ptr<DiskStore>{};
    return store;
}

cni::Dns toDns(const ipam::DnsSettings& d) {
    return cni::Dns{d.nameservers, d.domain, d.search, d.options};
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    Config cfg = TRY(loadConfig(args));
    cni::Result result;
    if (!cfg.resolvConf.empty()) result.dns = toDns(TRY(ipam::readResolvConf(cfg.resolvConf)));

    const Owner owner{args.containerId, args.ifname};
    // The lease files are written and synced before the network's lock is taken (ipam::DiskStore).
    auto store = TRY(openStore(cfg, true, &owner));
    std::vector<ipam::Allocation> done;
    auto undo = [&] {
        for (const auto& a : done)
            (void)store->releaseIp(a.address.address(), owner);
    };
    std::vector<net::IpAddress> requested = cfg.requested;
    for (size_t i = 0; i < cfg.rangeSets.size(); ++i) {
        const ipam::RangeSet& set = cfg.rangeSets[i];
        std::optional<net::IpAddress> want;
        auto it = std::find_if(requested.begin(), requested.end(),
                               [&](const net::IpAddress& ip) { return ipam::rangeFor(set, ip); });
        if (it != requested.end()) {
            want = *it;
            requested.erase(it);
        }
        auto got = ipam::allocate(*store, set, i, owner, want);
        if (!got) {
            undo();
            return std::unexpected(
                got.error().wrap("failed to allocate for range " + std::to_string(i)));
        }
        done.push_back(*got);
        log::debug("range set {}: leased {} (store {}/{})", i, got->address.str(), cfg.dataDir,
                   cfg.name);
        TETHER_FAULT_POINT("host-local.after-reserve");
    }
    if (!requested.empty()) {
        undo();
        std::string list;
        for (const auto& ip : requested)
            list += " " + ip.str();
        return fail(Code::InvalidConfig, "failed to allocate all requested IPs:" + list,
                    "the addresses are in none of the configured range sets");
    }
    for (const auto& a : done)
        result.ips.push_back(cni::IpConfig{a.address.str(), a.gateway.str(), std::nullopt});
    result.routes = cfg.routes;
    return result;
}

Status cmdDel(const cni::CmdArgs& args) {
    // Release never depends on the ranges: a config edited since ADD must not leak addresses.
    Config cfg = TRY(parseStoreLocation(args.conf.raw, args.conf.cniVersion));
    auto store = TRY(openExisting(cfg));
    if (!store) {
        log::debug("no store in {}/{}: nothing to release", cfg.dataDir, cfg.name);
        return {};
    }
    TRY(store->releaseOwner(Owner{args.containerId, args.ifname}));
    log::debug("leases of {}/{} released (store {}/{})", args.containerId, args.ifname, cfg.dataDir,
               cfg.name);
    return {};
}

Status cmdCheck(const cni::CmdArgs& args) {
    Config cfg = TRY(loadConfig(args));
    auto store = TRY(openExisting(cfg));
    const Owner owner{args.containerId, args.ifname};
    if (store && !TRY(store->findByOwner(owner, ipam::Lookup::Thorough)).empty()) return {};
    return fail(Code::Internal, "host-local: failed to find address added by container " +
                                    args.containerId + " (ifname " + args.ifname + ")");
}

Status cmdStatus(const cni::CmdArgs& args) {
    Config cfg = TRY(loadConfig(args));
    auto store = openExisting(cfg);
    if (!store) return fail(Code::NotAvailable, "IPAM store unusable: " + store.error().text());
    if (!*store) {
        // Nothing allocated yet: ADD will create the directory; its nearest existing ancestor
        // must be writable.
        std::string dir = cfg.dataDir;
        while (!dir.empty() && ::access(dir.c_str(), F_OK) != 0) {
            auto slash = dir.find_last_of('/');
            dir =
                slash == std::string::npos || slash == 0 ? std::string("/") : dir.substr(0, slash);
            if (dir == "/") break;
        }
        if (::access(dir.c_str(), W_OK) != 0)
            return fail(Code::NotAvailable,
                        "IPAM data dir " + dir + " is not writable: " + std::strerror(errno));
        return {};
    }
    if (auto w = (*store)->checkWritable(); !w)
        return fail(Code::NotAvailable,
                    "IPAM data dir " + cfg.dataDir + "/" + cfg.name + ": " + w.error().text());
    auto reserved = (*store)->reservedAddresses();
    if (!reserved)
        return fail(Code::NotAvailable, "IPAM store unreadable: " + reserved.error().text());
    for (size_t i = 0; i < cfg.rangeSets.size(); ++i)
        if (!ipam::hasFreeAddress(cfg.rangeSets[i], *reserved))
            return fail(Code::NotAvailable, "no IP addresses available in range set " +
                                                std::to_string(i) + ": " +
                                                ipam::rangeSetString(cfg.rangeSets[i]));
    return {};
}

namespace {

// cni.dev/valid-attachments, or the older cni.dev/attachments; absent = none valid.
Expected<std::vector<Owner>> validAttachments(const json& raw) {
    std::vector<Owner> out;
    for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
        const json* list = TRY(cni::fields::optArray(raw, key, ""));
        if (!list) continue;
        for (size_t i = 0; i < list->size(); ++i) {
            const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
            const json& a = (*list)[i];
            if (!a.is_object()) return cni::fields::typeError(path, "an object");
            auto id = TRY(cni::fields::optString(a, "containerID", path)).value_or("");
            auto ifname = TRY(cni::fields::optString(a, "ifname", path)).value_or("");
            out.push_back(Owner{id, ifname});
        }
        return out;
    }
    return out;
}

} // namespace

Status cmdGc(const cni::CmdArgs& args) {
    Config cfg = TRY(loadConfig(args));
    std::vector<Owner> valid = TRY(validAttachments(args.conf.raw));
    auto store = TRY(openExisting(cfg));
    if (!store) return {};
    auto isValid = [&](const Owner& o) {
        if (o.containerId.empty()) return false;
        return std::any_of(valid.begin(), valid.end(), [&](const Owner& v) {
            return v.containerId == o.containerId && (o.ifname.empty() || v.ifname == o.ifname);
        });
    };
    ErrorList errors;
    auto leases = store->leases();
    if (!leases) return std::unexpected(leases.error().wrap("GC"));
    for (const ipam::Lease& l : *leases) {
        if (isValid(l.owner)) continue;
        errors.add(store->forceRelease(l.ip));
    }
    errors.add(store->pruneIndex());
    return errors.result("GC");
}

cni::PluginFuncs pluginFuncs() {
    return cni::PluginFuncs{.add = cmdAdd,
                            .del = cmdDel,
                            .check = cmdCheck,
                            .status = cmdStatus,
                            .gc = cmdGc,
                            .validate = [](const cni::CmdArgs& args) -> Status {
                                TRY(loadConfig(args));
                                return {};
                            }};
}

} // namespace tether::hostlocal
