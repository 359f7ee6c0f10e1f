// The plugin's view of its stdin config: the protocol keys every plugin shares. Plugin-specific
// keys are read by each plugin from `raw`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "cni/result.hpp"

namespace tether::cni {

struct NetConf {
    std::string cniVersion;           ///< "0.1.0" when absent, as the reference decodes it
    std::string name;                 ///< network name (validated when present)
    std::string type;                 ///< plugin type (validated: no '/')
    std::string ipamType;             ///< ipam.type, empty when there is no ipam section
    std::optional<Dns> dns;           ///< the "dns" key when present
    std::optional<Result> prevResult; ///< parsed in cniVersion; absent when not given or null
    nlohmann::json runtimeConfig = nlohmann::json::object();
    nlohmann::json args = nlohmann::json::object(); ///< the "args" convention object
    nlohmann::json raw;                             ///< the whole config object as received
};

/// Parses a plugin config. Errors: code 6 "decode network config: <parser message>" for bad JSON
/// or a non-object, code 6 naming the field for a wrong type (e.g. "name must be a string"),
/// code 7 for an invalid network name or plugin type. Unknown keys are ignored.
Expected<NetConf> parseNetConf(std::string_view stdinData);

/// The JSON text of a config as an object: code 6 "decode network config: <parser message>" for
/// bad JSON or a non-object.
Expected<nlohmann::json> parseConfigJson(std::string_view stdinData);

/// A config object's cniVersion: "0.1.0" when absent, null or empty; code 6 when not a string.
Expected<std::string> configVersion(const nlohmann::json& conf);

/// parseNetConf over an object parsed already (by parseConfigJson); `conf` becomes `raw`.
Expected<NetConf> parseNetConfObject(nlohmann::json conf);

/// Looks a key up in `obj` exactly, then case-insensitively (Go's encoding/json matches keys that
/// way and real configs rely on it, e.g. "bandWidth"). nullptr when absent.
const nlohmann::json* findKey(const nlohmann::json& obj, std::string_view key);

} // namespace tether::cni
