// Runs a CNI plugin binary the way a runtime does (env + stdin, no shell) and hands back what it
// printed. Used by the plugins' e2e tests.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::test {

struct PluginRun {
    int exitCode = -1;                  ///< process exit code; 128 + signal when killed
    std::string out;                    ///< stdout (the result or the error JSON)
    std::string err;                    ///< stderr (logs)
    std::optional<nlohmann::json> json; ///< stdout parsed as JSON when it is valid JSON
};

/// Executes `binary` with CNI_COMMAND=`command` (unset when empty), the given extra environment
/// pairs, PATH from our own environment and nothing else, and `stdinData` on stdin. Aborts the
/// test (Catch2 FAIL) if the binary cannot be started or runs longer than 60 s.
PluginRun runPlugin(const std::string& binary, const std::string& command,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    const std::string& stdinData);

} // namespace tether::test
