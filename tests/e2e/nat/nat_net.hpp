// The network both NAT suites attach containers to: bridge (ipMasq, default gateway) with
// host-local, then portmap, written as a conflist into a private config dir and resolved through
// the runtime as a user's `tether net add` would.
#pragma once

#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "libcni/net_ops.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test {

struct NatNetOptions {
    std::string name;                   ///< network name
    std::string bridge;                 ///< bridge device
    std::string subnet;                 ///< host-local subnet
    std::optional<std::string> backend; ///< ipMasqBackend (bridge) and backend (portmap)
    bool snat = true;                   ///< portmap snat
};

/// The network, its config dir, cache dir and IPAM data dir (all removed with it).
struct NatNet {
    TempDir conf, cache, data;
    rt::NetPaths paths;
    rt::NetworkList list;
    NatNetOptions opts;

    explicit NatNet(NatNetOptions o) : opts(std::move(o)) {
        paths = {.configDir = conf.path(), .cniPath = binDir(), .cacheDir = cache.path()};
        write();
    }
    /// Runs one plugin binary by hand (GC, bad configs, crafted DELs) with `conf` as this
    /// network's (name, cniVersion 1.1.0) and CNI_PATH set; returns what it printed.
    PluginRun runPlugin(const std::string& type, const std::string& command,
                        nlohmann::json pluginConf,
                        std::vector<std::pair<std::string, std::string>> env = {}) const {
        pluginConf["name"] = opts.name;
        pluginConf["cniVersion"] = "1.1.0";
        env.emplace_back("CNI_PATH", binDir());
        return test::runPlugin(binDir() + "/" + type, command, env, pluginConf.dump());
    }
    /// Rewrites the config with another NAT backend (between ADD and DEL, say).
    void setBackend(const std::string& backend) {
        opts.backend = backend;
        write();
    }

  private:
    void write() {
        nlohmann::json bridge = {
            {"type", "bridge"},
            {"bridge", opts.bridge},
            {"isDefaultGateway", true},
            {"ipMasq", true},
            {"ipam",
             {{"type", "host-local"}, {"subnet", opts.subnet}, {"dataDir", data.path().string()}}}};
        nlohmann::json portmap = {
            {"type", "portmap"}, {"snat", opts.snat}, {"capabilities", {{"portMappings", true}}}};
        if (opts.backend) {
            bridge["ipMasqBackend"] = *opts.backend;
            portmap["backend"] = *opts.backend;
        }
        nlohmann::json l = {{"cniVersion", "1.1.0"},
                            {"name", opts.name},
                            {"plugins", nlohmann::json::array({bridge, portmap})}};
        std::ofstream(conf / "n.conflist") << l.dump();
        list = *rt::resolveNetwork(paths, opts.name);
    }
};

/// Container `id` in `ns` as eth0, with these port mappings (capability portMappings).
inline rt::RuntimeConf natAttachment(const std::string& id, const ScratchNetns& ns,
                                     nlohmann::json mappings = nlohmann::json::array()) {
    return {.containerId = id,
            .netns = ns.path(),
            .ifname = "eth0",
            .capabilityArgs = {{"portMappings", std::move(mappings)}}};
}

} // namespace tether::test
