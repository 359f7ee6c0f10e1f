// A network list executed plugin by plugin the way libcni calls them, independent of our runtime:
// ADD in order (name and cniVersion injected, prevResult from the previous plugin, runtimeConfig
// holding the declared capabilities the caller supplied), CHECK in order and DEL in reverse, both
// with the final ADD result as prevResult. Shows the plugins work under any libcni caller, not
// only under `tether net`.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tether::test {

struct ChainAttachment {
    std::string containerId;
    std::string netns;
    std::string ifname = "eth0";
    nlohmann::json capabilityArgs = nlohmann::json::object(); ///< {"portMappings": [...]} …
};

/// What a chain operation ended with: the final result (ADD) or the failing plugin's error.
struct ChainOutcome {
    bool ok = false;
    nlohmann::json result; ///< ADD: the last plugin's result
    std::string error;     ///< "<type> <COMMAND>: <stdout> <stderr>" of the failing plugin
};

/// `list` is a parsed conflist; plugins are looked up in `cniPath` (one directory).
class LibcniChain {
  public:
    LibcniChain(nlohmann::json list, std::string cniPath)
        : list_(std::move(list)), cniPath_(std::move(cniPath)) {}

    /// ADD of every plugin in order; stops at the first failure (no DEL: the caller decides).
    [[nodiscard]] ChainOutcome add(const ChainAttachment& a) const;
    /// CHECK of every plugin in order with `result` as prevResult; stops at the first failure.
    [[nodiscard]] ChainOutcome check(const ChainAttachment& a, const nlohmann::json& result) const;
    /// DEL of every plugin in reverse with `result` (null: none) as prevResult; runs them all and
    /// reports the first failure.
    [[nodiscard]] ChainOutcome del(const ChainAttachment& a, const nlohmann::json& result) const;

  private:
    [[nodiscard]] nlohmann::json pluginConf(const nlohmann::json& plugin, const ChainAttachment& a,
                                            const nlohmann::json& prev) const;
    nlohmann::json list_;
    std::string cniPath_;
};

} // namespace tether::test
