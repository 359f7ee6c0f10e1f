// Network configuration lists as libcni loads them: *.conflist files in a directory (sorted),
// then legacy single-plugin *.conf/*.json files upgraded to one-plugin lists; version negotiation
// over cniVersion/cniVersions; sibling <dir>/<name>/*.conf plugins.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace tether::rt {

struct NetworkList {
    std::string name;
    std::string cniVersion; ///< the negotiated version (highest supported)
    bool disableCheck = false;
    bool disableGC = false;
    std::vector<nlohmann::json> plugins; ///< plugin objects as written (plus sibling ones)
    std::string bytes;                   ///< the conflist text (what the result cache stores)
    std::string file;                    ///< where it came from ("" for built-in)
};

/// Parses a conflist document. `file` names it in errors. Errors (code 7 unless noted):
/// bad JSON (code 6, "<file>: parse error at byte N: ..."), missing/invalid name, no plugins,
/// a plugin without `type` or with an unsafe one ('/'), no usable cniVersion.
Expected<NetworkList> parseNetworkList(const std::string& bytes, const std::string& file);

/// Upgrades a legacy single-plugin config (.conf/.json) to a one-plugin list, as libcni's
/// ConfListFromConf does.
Expected<NetworkList> parseLegacyConf(const std::string& bytes, const std::string& file);

/// Every network in `dir` (conflists first, then legacy files), in libcni's order. A missing
/// directory gives an empty list. Two lists with the same name: the first wins, as in libcni.
/// Unreadable or invalid files are reported in `problems` and skipped.
std::vector<NetworkList> loadNetworks(const std::string& dir, std::vector<std::string>* problems);

/// The network called `name` in `dir`, with sibling `<dir>/<name>/*.conf` plugins appended
/// unless loadOnlyInlinedPlugins. Not found: code 7 listing the networks that exist.
Expected<NetworkList> findNetwork(const std::string& dir, const std::string& name);

} // namespace tether::rt
