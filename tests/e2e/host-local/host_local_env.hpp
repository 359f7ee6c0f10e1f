// Running host-local binaries (ours and the reference) the way a runtime does, against a
// private data dir.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test::hostlocal {

/// Our build/bin/host-local.
std::string ours();
/// The reference binary (/usr/lib/cni/host-local), empty when it is not installed.
std::string reference();

/// One attachment's request: command, container ID, ifname, CNI_ARGS, and the config.
struct Call {
    std::string command = "ADD";
    std::string containerId = "c1";
    std::string ifname = "eth0";
    std::string cniArgs;
};

/// Runs `binary` with CNI_NETNS=/proc/self/ns/net (+CNI_NETNS_OVERRIDE), CNI_PATH and the call.
PluginRun run(const std::string& binary, const Call& call, const nlohmann::json& conf);

/// A config named `net` with `ipam` (dataDir set to `dataDir`) in `version`.
nlohmann::json config(const std::string& dataDir, nlohmann::json ipam,
                      const std::string& version = "1.0.0", const std::string& net = "net1");

/// Names of the lease files (IP-named) under <dataDir>/<net>, sorted.
std::vector<std::string> leaseFiles(const std::filesystem::path& dataDir,
                                    const std::string& net = "net1");

/// Content of a file, or "" when missing.
std::string readFile(const std::filesystem::path& p);

/// The result without an empty "dns" object (the reference prints "dns":{}; we omit it).
nlohmann::json normalized(nlohmann::json result);

/// Starts `n` processes at once (binary i chosen by `pick(i)`), each an ADD for container
/// "p<i>", and waits for all. Returns each one's (exit code, stdout).
std::vector<std::pair<int, std::string>>
parallelAdds(int n, const std::vector<std::string>& binaries, const nlohmann::json& conf);

} // namespace tether::test::hostlocal
