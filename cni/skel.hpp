// The plugin skeleton: reads CNI_* env and stdin, validates them, reconciles the version, calls
// the plugin's handler and prints the result or the error JSON on stdout (exit 1 on error).
// Logs go to stderr. Behaviour mirrors the reference skel (see docs/cni-protocol.md).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "cni/config.hpp"
#include "cni/result.hpp"

namespace tether::cni {

/// Everything a handler gets. `conf` is parsed already; `stdinData` is the raw bytes (forwarded
/// verbatim to a delegated IPAM plugin).
struct CmdArgs {
    std::string command;     ///< ADD, DEL, CHECK, STATUS, GC
    std::string containerId; ///< CNI_CONTAINERID (validated; empty for STATUS/GC)
    std::string netns;       ///< CNI_NETNS (may be empty on DEL)
    std::string ifname;      ///< CNI_IFNAME (validated; empty for STATUS/GC)
    std::string args;        ///< CNI_ARGS unparsed
    std::string path;        ///< CNI_PATH
    std::string stdinData;   ///< the config as received
    NetConf conf;
};

/// A plugin's handlers. A missing handler means "nothing to do, succeed" (what the reference
/// skel does for a nil STATUS/GC callback). `add` returns the result to print.
struct PluginFuncs {
    std::function<Expected<Result>(const CmdArgs&)> add;
    std::function<Status(const CmdArgs&)> del;
    std::function<Status(const CmdArgs&)> check;
    std::function<Status(const CmdArgs&)> status;
    std::function<Status(const CmdArgs&)> gc;
    /// Optional: checks the config of an ADD without touching anything. Run by a plugin that
    /// delegates to this one in-process, before its own first kernel call (cni/builtin.hpp), so
    /// a bad IPAM config fails before any link exists. Not run by the skeleton itself.
    std::function<Status(const CmdArgs&)> validate;
};

/// Options of one plugin binary.
struct PluginInfo {
    std::string_view about;                          ///< printed when CNI_COMMAND is unset
    std::span<const std::string_view> versions = {}; ///< empty = supportedVersions()
    bool netnsRequiredOnDel = false;                 ///< reference: never required
    std::string_view name = {};                      ///< in log lines; empty = the config's type
};

/// Runs the plugin and returns the process exit code (0 or 1). Maximum stdin: 4 MiB (code 5).
/// Per-command required variables (code 4 "required env variables [X,Y] missing"): ADD/CHECK need
/// CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH; DEL needs CNI_CONTAINERID, CNI_IFNAME,
/// CNI_PATH; GC needs CNI_PATH; STATUS and VERSION need nothing. CNI_NETNS must be a network
/// namespace other than our own unless CNI_NETNS_OVERRIDE is 1/true (code 8); on DEL a path that
/// does not exist passes. Error JSON carries cniVersion, code, msg and details (omitted when
/// empty). CNI_COMMAND unset: about text and versions on stderr, exit 0. VERSION: echoes the stdin
/// cniVersion when supported, else 1.1.0; bad stdin is ignored. Unknown command: code 4.
/// Logging (docs/logging.md): TETHER_LOG_LEVEL sets the stderr level (default off; an invalid
/// level is code 4), the config keys logFile (absolute path) and logLevel (default info; code 6
/// for a non-string, code 7 for an invalid value) add a file; a log file that cannot be opened is
/// reported on stderr and skipped. Every line is prefixed "<name> <command> container=<id>
/// ifname=<ifname>".
int pluginMain(const PluginFuncs& funcs, const PluginInfo& info);

/// Same as pluginMain but with explicit environment and I/O, for unit tests.
struct SkelIo {
    std::function<std::optional<std::string>(std::string_view)> getenv;
    std::string stdinData;
    std::string out; ///< what would be printed on stdout
    std::string err; ///< what would be printed on stderr
};
int pluginMainWith(const PluginFuncs& funcs, const PluginInfo& info, SkelIo& io);

/// Serialises an error as the CNI error JSON {"cniVersion","code","msg","details"}.
std::string errorJson(const Error& e, std::string_view cniVersion);

} // namespace tether::cni
