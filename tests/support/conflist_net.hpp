// A network as a user configures it: a conflist written into a private config dir, with its own
// result cache dir and IPAM data dir (all removed with the object), resolved through the runtime
// as `tether net add` would (rt::resolveNetwork). The NAT, portmap and firewall e2e suites build
// their networks on it: the bridge (default gateway, ipMasq) with host-local, then their plugin.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "libcni/net_ops.hpp"
#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test {

struct ConflistNet {
    TempDir conf, cache, data;
    rt::NetPaths paths; ///< conf, cache and binDir() as CNI_PATH
    rt::NetworkList list;
    std::string name; ///< the network name

    /// Creates the dirs; nothing is written until write().
    explicit ConflistNet(std::string netName);

    /// Writes `plugins` (a JSON array) as the list "n.conflist" (cniVersion 1.1.0, `name`),
    /// replacing what was there, and resolves it into `list`. Catch2 FAIL when the runtime
    /// refuses the list.
    void write(const nlohmann::json& plugins);

    /// Runs one plugin binary by hand (GC, bad configs, crafted DELs) with `pluginConf` as this
    /// network's: `name` set, cniVersion 1.1.0 unless `pluginConf` has one, CNI_PATH = binDir()
    /// added to `env`. Returns what it printed.
    PluginRun runPlugin(const std::string& type, const std::string& command,
                        nlohmann::json pluginConf,
                        std::vector<std::pair<std::string, std::string>> env = {}) const;

    /// The bridge plugin's config for this network: bridge `bridge`, isDefaultGateway, ipMasq,
    /// and IPAM host-local with `ipamKeys` (a "subnet" or "ranges") and dataDir = `data`.
    [[nodiscard]] nlohmann::json masqBridge(const std::string& bridge,
                                            const nlohmann::json& ipamKeys) const;
};

/// host-local "ranges" of one range set per entry of `ranges` (each a range object such as
/// {"subnet": "10.0.0.0/24"}).
nlohmann::json rangeSets(const std::vector<nlohmann::json>& ranges);

/// Container `id` in `ns` as eth0, with these port mappings (capability portMappings).
rt::RuntimeConf portMapAttachment(const std::string& id, const ScratchNetns& ns,
                                  nlohmann::json mappings = nlohmann::json::array());

} // namespace tether::test
