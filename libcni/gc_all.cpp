#include "libcni/gc_all.hpp"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <map>

#include "base/error_list.hpp"
#include "libcni/net_ops.hpp"
#include "libcni/result_cache.hpp"

namespace tether::rt {

namespace {

// A cached attachment's netns is alive while its path is a network namespace: a pin under
// /run/netns (an nsfs bind mount) or /proc/PID/ns/net of a running process. A pin file left on
// tmpfs, a vanished path (every path after a reboot) or an empty one is dead.
bool netnsAlive(const std::string& path) {
    if (path.empty()) return false;
    struct statfs fs {};
    return ::statfs(path.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC;
}

// A plugin of `list` that does not support the list's cniVersion (the reference plugins before
// 1.2 stop at 1.0.0; the built-in default network is 1.1.0): every ADD of the list failed, so it
// has no attachment to collect, and its GC could only fail. Returns that plugin's line, or "".
std::string unsupportedPlugin(const NetworkList& list, const ExecEnv& env) {
    for (const auto& plugin : list.plugins) {
        auto versions = pluginSupportedVersions(list, plugin, env);
        if (!versions) continue; // not found or broken: gcNetwork reports it
        if (std::find(versions->begin(), versions->end(), list.cniVersion) == versions->end())
            return "plugin " + plugin.value("type", "") + " does not support cniVersion " +
                   list.cniVersion;
    }
    return "";
}

} // namespace

Expected<std::vector<std::string>> gcAllNetworks(const NetPaths& paths) {
    std::vector<std::string> report;
    std::vector<std::string> problems;
    std::vector<NetworkList> lists = loadNetworks(paths.configDir, &problems);
    report.reserve(problems.size());
    for (const auto& p : problems)
        report.push_back("warning: " + p);
    if (std::none_of(lists.begin(), lists.end(), [](const auto& l) { return l.name == "default"; }))
        lists.push_back(builtinDefaultNetwork());

    // Attachments of networks whose config is gone: GC them with the conflist the cache holds.
    std::map<std::string, std::string> orphaned;
    for (const auto& a : listCache(paths.cacheDir, "")) {
        bool known = std::any_of(lists.begin(), lists.end(),
                                 [&](const auto& l) { return l.name == a.network; });
        if (!known && !orphaned.contains(a.network)) orphaned[a.network] = a.config;
    }
    for (const auto& [name, bytes] : orphaned) {
        auto list = parseNetworkList(bytes, "cached config of " + name);
        if (list && list->name == name) {
            lists.push_back(*list);
        } else {
            report.push_back("warning: network " + name + ": cached config unusable, skipped");
        }
    }

    pruneCacheTemps(paths.cacheDir, ""); // left by an ADD killed while writing its cache
    ErrorList errors;
    for (const auto& list : lists) {
        std::vector<std::pair<std::string, std::string>> valid;
        size_t stale = 0;
        for (const auto& a : listCache(paths.cacheDir, list.name)) {
            if (netnsAlive(a.netns)) {
                valid.emplace_back(a.containerId, a.ifname);
            } else {
                ++stale;
            }
        }
        if (list.disableGC) {
            report.push_back("network " + list.name + ": disableGC, skipped");
            continue;
        }
        if (valid.empty() && stale == 0) {
            if (auto why = unsupportedPlugin(list, execEnv(paths)); !why.empty()) {
                report.push_back("network " + list.name + ": " + why +
                                 ", no attachment can exist, skipped");
                continue;
            }
        }
        auto st = gcNetwork(paths, list, valid);
        report.push_back("network " + list.name + ": " + std::to_string(stale) +
                         " stale attachment(s) removed, " + std::to_string(valid.size()) + " kept" +
                         (st ? "" : " (" + st.error().text() + ")"));
        errors.add(st, list.name);
    }
    TRY(errors.result("gc --all"));
    return report;
}

} // namespace tether::rt
