// A network for the firewall tests: bridge (gateway, ipMasq) with host-local, then — unless
// disabled — firewall with the given ingressPolicy/backend, written as a conflist and run through
// the runtime as `tether net add` would (test::ConflistNet). Several networks may share one bridge
// and subnet with disjoint address ranges (the mixed-policy case).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/conflist_net.hpp"

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

struct FwNet : ConflistNet {
    FwNetOptions opts;

    explicit FwNet(FwNetOptions o) : ConflistNet(o.name), opts(std::move(o)) {
        nlohmann::json range = {{"subnet", opts.subnet}};
        if (!opts.rangeStart.empty())
            range["rangeStart"] = opts.rangeStart, range["rangeEnd"] = opts.rangeEnd;
        nlohmann::json plugins = nlohmann::json::array(
            {masqBridge(opts.bridge, nlohmann::json{{"ranges", rangeSets({range})}})});
        if (opts.firewall) {
            nlohmann::json fw = {{"type", "firewall"}};
            if (opts.policy) fw["ingressPolicy"] = *opts.policy;
            if (opts.backend) fw["backend"] = *opts.backend;
            plugins.push_back(fw);
        }
        write(plugins);
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
        if (opts.backend && !c.contains("backend")) c["backend"] = *opts.backend;
        if (opts.policy && !c.contains("ingressPolicy")) c["ingressPolicy"] = *opts.policy;
        c["type"] = "firewall";
        return runPlugin("firewall", command, std::move(c), std::move(env));
    }
};

} // namespace tether::test
