// A network for the firewall tests: bridge (gateway, ipMasq) with host-local, then — unless
// disabled — firewall with the given ingressPolicy/backend, written as a conflist and run through
// the runtime as `tether net add` would. Several networks may share one bridge and subnet with
// disjoint address ranges (the mixed-policy case).
#pragma once

#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "libcni/net_ops.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test {

struct FwNetOptions {
    std::string name;
    std::string bridge;
    std::string subnet;
    std::string rangeStart, rangeEnd;   ///< empty: the whole subnet
    std::optional<std::string> policy;  ///< ingressPolicy
    std::optional<std::string> backend; ///< firewall backend
    bool firewall = true;               ///< false: bridge alone
};

struct FwNet {
    TempDir conf, cache, data;
    rt::NetPaths paths;
    rt::NetworkList list;
    FwNetOptions opts;

    explicit FwNet(FwNetOptions o) : opts(std::move(o)) {
        paths = {.configDir = conf.path(), .cniPath = binDir(), .cacheDir = cache.path()};
        nlohmann::json range = {{"subnet", opts.subnet}};
        if (!opts.rangeStart.empty())
            range["rangeStart"] = opts.rangeStart, range["rangeEnd"] = opts.rangeEnd;
        nlohmann::json bridge = {
            {"type", "bridge"},
            {"bridge", opts.bridge},
            {"isDefaultGateway", true},
            {"ipMasq", true},
            {"ipam",
             {{"type", "host-local"},
              {"ranges", nlohmann::json::array({nlohmann::json::array({range})})},
              {"dataDir", data.path().string()}}}};
        nlohmann::json plugins = nlohmann::json::array({bridge});
        if (opts.firewall) {
            nlohmann::json fw = {{"type", "firewall"}};
            if (opts.policy) fw["ingressPolicy"] = *opts.policy;
            if (opts.backend) fw["backend"] = *opts.backend;
            plugins.push_back(fw);
        }
        nlohmann::json l = {{"cniVersion", "1.1.0"}, {"name", opts.name}, {"plugins", plugins}};
        std::ofstream(conf / "n.conflist") << l.dump();
        list = *rt::resolveNetwork(paths, opts.name);
    }

    /// Attaches `ns` as eth0 of container `id`; returns the container's IPv4 address ("" on
    /// failure, with the error in `error`).
    std::string add(const std::string& id, const ScratchNetns& ns, std::string* error = nullptr) {
        auto r = rt::addNetwork(paths, list, {.containerId = id, .netns = ns.path()});
        if (!r) {
            if (error) *error = r.error().text();
            return {};
        }
        std::string a = (*r)["ips"][0]["address"];
        return a.substr(0, a.find('/'));
    }
    Status del(const std::string& id, const ScratchNetns& ns) {
        return rt::delNetwork(paths, list, {.containerId = id, .netns = ns.path()});
    }
    Status check(const std::string& id, const ScratchNetns& ns) {
        return rt::checkNetwork(paths, list, {.containerId = id, .netns = ns.path()});
    }
    /// Runs the firewall binary by hand with `conf` as this network's (name, backend and policy
    /// unless `conf` sets them; CNI_PATH set).
    PluginRun run(const std::string& command, nlohmann::json c,
                  std::vector<std::pair<std::string, std::string>> env = {}) const {
        c["name"] = opts.name;
        if (opts.backend && !c.contains("backend")) c["backend"] = *opts.backend;
        if (opts.policy && !c.contains("ingressPolicy")) c["ingressPolicy"] = *opts.policy;
        if (!c.contains("cniVersion")) c["cniVersion"] = "1.1.0";
        c["type"] = "firewall";
        env.emplace_back("CNI_PATH", binDir());
        return runPlugin(binDir() + "/firewall", command, env, c.dump());
    }
};

} // namespace tether::test
