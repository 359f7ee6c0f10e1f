// Helpers for the bridge plugin's e2e tests: a CNI_PATH mixing our binaries and the reference
// ones, a config builder, calls made the way libcni makes them, and observations of the host.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test::bridgetest {

/// "/usr/lib/cni/<name>" when the reference plugin is installed, else "".
std::string referencePlugin(const std::string& name);

/// A CNI_PATH directory holding `bridge` and `host-local` from ours or the reference.
class PluginDir {
  public:
    PluginDir(bool ourBridge, bool ourHostLocal);
    [[nodiscard]] std::string path() const { return dir_.path().string(); }
    [[nodiscard]] std::string bridge() const { return dir_ / "bridge"; }

  private:
    TempDir dir_;
};

/// {"cniVersion", "name", "type":"bridge", "bridge", "ipam": host-local with `subnets` (one range
/// set each) in `dataDir`} merged with `extra`.
nlohmann::json bridgeConfig(const std::string& version, const std::string& bridgeName,
                            const std::string& dataDir, const std::vector<std::string>& subnets,
                            const nlohmann::json& extra = nlohmann::json::object());

/// One plugin call with the env libcni sets.
PluginRun call(const PluginDir& dir, const std::string& command, const std::string& containerId,
               const std::string& netns, const nlohmann::json& conf,
               const std::string& ifname = "eth0");

/// The same config with prevResult set (what libcni sends on CHECK/DEL).
nlohmann::json withPrev(nlohmann::json conf, const nlohmann::json& prevResult);

/// Names of veth links in the calling thread's netns.
std::vector<std::string> hostVeths();

/// IP lease files in <dataDir>/<network>.
std::vector<std::string> leases(const std::string& dataDir, const std::string& network);

/// The IPv4/IPv6 addresses (CIDR) on `ifname` inside `ns`.
std::vector<std::string> addressesIn(const ScratchNetns& ns, const std::string& ifname);

} // namespace tether::test::bridgetest
