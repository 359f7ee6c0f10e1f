#include "libcni/net_ops.hpp"
#include "base/fault_point.hpp"

#include "base/error_list.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "libcni/result_cache.hpp"
#include "tether/install_paths.hpp"

namespace tether::rt {

using nlohmann::json;

NetPaths NetPaths::fromEnv() {
    NetPaths p;
    if (const char* v = std::getenv("NETCONFPATH"); v && *v) p.configDir = v;
    if (const char* v = std::getenv("CNI_CACHE_DIR"); v && *v) p.cacheDir = v;
    if (const char* v = std::getenv("CNI_PATH"); v && *v) p.cniPath = v;
    return p;
}

std::string NetPaths::defaultCniPath() {
    namespace fs = std::filesystem;
    std::vector<std::string> dirs;
    std::error_code ec;
    auto self = fs::read_symlink("/proc/self/exe", ec).parent_path();
    if (!ec) {
        for (const fs::path& d : {self, (self / install::kCniDirFromBinDir).lexically_normal()})
            if (::access((d / "bridge").c_str(), X_OK) == 0) dirs.push_back(d.string());
    }
    dirs.emplace_back(install::kCniDir);
    std::string out;
    for (size_t i = 0; i < dirs.size(); ++i) {
        if (std::find(dirs.begin(), dirs.begin() + i, dirs[i]) != dirs.begin() + i) continue;
        out += (out.empty() ? "" : ":") + dirs[i];
    }
    return out;
}

ExecEnv execEnv(const NetPaths& paths) {
    return ExecEnv{.cniPath = paths.cniPath};
}

NetworkList builtinDefaultNetwork() {
    json list = {
        {"cniVersion", "1.1.0"},
        {"name", "default"},
        {"plugins",
         json::array({{{"type", "bridge"},
                       {"bridge", "tether0"},
                       {"isGateway", true},
                       {"isDefaultGateway", true},
                       {"ipMasq", true},
                       {"hairpinMode", true},
                       {"ipam",
                        {{"type", "host-local"},
                         {"ranges", json::array({json::array({{{"subnet", "10.77.0.0/16"}}})})},
                         {"dataDir", "/var/lib/tether/networks"}}}},
                      {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}}})}};
    auto parsed = parseNetworkList(list.dump(2), "");
    return *parsed;
}

Expected<NetworkList> resolveNetwork(const NetPaths& paths, const std::string& name) {
    auto found = findNetwork(paths.configDir, name);
    if (found || name != "default") return found;
    return builtinDefaultNetwork();
}

Expected<json> addNetwork(const NetPaths& paths, const NetworkList& list, const RuntimeConf& rt) {
    const ExecEnv env = execEnv(paths);
    auto result = addList(list, rt, env);
    if (!result) {
        (void)delList(list, rt, env, std::nullopt);
        return result;
    }
    TETHER_FAULT_POINT("net.before-cache");
    if (auto st = writeCache(paths.cacheDir, list, rt, *result); !st) {
        (void)delList(list, rt, env, *result);
        return std::unexpected(st.error());
    }
    TETHER_FAULT_POINT("net.after-cache");
    return result;
}

Status delNetwork(const NetPaths& paths, const NetworkList& list, const RuntimeConf& rt) {
    auto cached = readCache(paths.cacheDir, list.name, rt.containerId, rt.ifname);
    std::optional<json> prev;
    if (cached) {
        const auto& entry = *cached;
        if (entry) prev = entry->result;
    }
    TRY(delList(list, rt, execEnv(paths), prev));
    removeCache(paths.cacheDir, list.name, rt.containerId, rt.ifname);
    return {};
}

Status checkNetwork(const NetPaths& paths, const NetworkList& list, const RuntimeConf& rt) {
    auto cached = TRY(readCache(paths.cacheDir, list.name, rt.containerId, rt.ifname));
    if (!cached || !cached->result)
        return fail(Code::UnknownContainer,
                    "no cached result for " + list.name + "/" + rt.containerId + "/" + rt.ifname);
    return checkList(list, rt, execEnv(paths), *cached->result);
}

Status gcNetwork(const NetPaths& paths, const NetworkList& list,
                 const std::vector<std::pair<std::string, std::string>>& valid) {
    if (list.disableGC) return {};
    ErrorList errors;
    for (const auto& a : listCache(paths.cacheDir, list.name)) {
        bool keep = false;
        for (const auto& [cid, ifname] : valid)
            keep = keep || (cid == a.containerId && ifname == a.ifname);
        if (keep) continue;
        errors.add(delNetwork(paths, list, a.rt));
    }
    errors.add(gcPlugins(list, execEnv(paths), valid));
    return errors.result();
}

Expected<std::vector<Attached>> attachNetworks(const NetPaths& paths, const AttachRequest& req) {
    std::vector<Attached> done;
    std::vector<std::pair<NetworkList, RuntimeConf>> attempted;
    for (size_t i = 0; i < req.networks.size(); ++i) {
        auto list = resolveNetwork(paths, req.networks[i]);
        RuntimeConf rt{.containerId = req.containerId,
                       .netns = req.netnsPath,
                       .ifname = "eth" + std::to_string(i),
                       .args = req.cniArgs,
                       .capabilityArgs = req.capabilityArgs};
        Expected<json> result =
            list ? addNetwork(paths, *list, rt) : Expected<json>(std::unexpected(list.error()));
        if (!result) {
            for (auto it = attempted.rbegin(); it != attempted.rend(); ++it)
                (void)delNetwork(paths, it->first, it->second);
            return std::unexpected(result.error().wrap("attach network " + req.networks[i]));
        }
        auto parsed = cni::parseResult(*result, list->cniVersion);
        attempted.emplace_back(*list, rt);
        done.push_back({req.networks[i], rt.ifname, parsed ? *parsed : cni::Result{}});
    }
    return done;
}

Status detachNetworks(const NetPaths& paths, const AttachRequest& req) {
    ErrorList errors;
    for (size_t i = req.networks.size(); i-- > 0;) {
        auto list = resolveNetwork(paths, req.networks[i]);
        if (!list) {
            errors.add(list.error());
            continue;
        }
        RuntimeConf rt{.containerId = req.containerId,
                       .netns = req.netnsPath,
                       .ifname = "eth" + std::to_string(i),
                       .args = req.cniArgs,
                       .capabilityArgs = req.capabilityArgs};
        errors.add(delNetwork(paths, *list, rt));
    }
    return errors.result("detach");
}

} // namespace tether::rt
