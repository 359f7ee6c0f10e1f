// What `tether run` was asked to do, validated before anything is touched, and where the
// launcher keeps its state. Defaults follow Docker where Docker has a flag of the same name.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/devices.hpp"

namespace tether::rt {

/// Directories the launcher writes. Overridable by environment so tests and users can keep
/// several independent launchers: TETHER_STATE_DIR (/run/tether), TETHER_LIB_DIR
/// (/var/lib/tether), TETHER_NETNS_DIR (/run/netns), TETHER_CGROUP_PARENT (tether).
struct LauncherPaths {
    std::string stateRoot = "/run/tether";
    std::string libRoot = "/var/lib/tether";
    std::string netnsDir = "/run/netns";
    std::string cgroupParent = "tether";
    static LauncherPaths fromEnv();
    [[nodiscard]] std::string stateDir(const std::string& id) const { return stateRoot + "/" + id; }
    [[nodiscard]] std::string netnsPath(const std::string& id) const {
        return netnsDir + "/tether-" + id;
    }
};

struct Volume {
    std::string host;
    std::string container;
    bool readOnly = false;
};

/// How a namespace is obtained: a fresh one, the host's, or another container's.
struct NsMode {
    enum Kind { Private, Host, Container, None } kind = Private;
    std::string container; ///< id when kind == Container
};

/// One --ulimit: a setrlimit resource with soft and hard values.
struct Ulimit {
    int resource = 0;
    uint64_t soft = 0;
    uint64_t hard = 0;
};

struct RunOptions {
    std::string id;
    std::vector<std::string> command;
    std::string rootfs; ///< --rootfs DIR: bind-mounted as /
    std::string image;  ///< --image DIR: read-only overlay lower
    bool readOnly = false;
    std::vector<Volume> volumes;
    std::string hostname; ///< defaults to the first 12 characters of the id
    std::vector<std::string> env;
    std::string workdir = "/";
    std::string user; ///< -u NAME|UID[:GROUP|GID], resolved into uid/gid against the rootfs
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<std::string> capAdd, capDrop;
    bool seccomp = true;
    // --- security options (launcher security; see applySecurityOpt) ---
    std::string seccompProfile; ///< --security-opt seccomp=FILE: its JSON (empty: built-in)
    std::string seccompSource = "default"; ///< the FILE, for messages
    // --- end security options ---
    bool init = false;
    bool detach = false;
    bool userns = false;
    CgroupLimits limits;
    std::vector<Ulimit> ulimits;
    std::vector<DeviceRequest> devices; ///< --device: host devices added to the default set
    std::vector<std::string> networks;  ///< named networks (eth0, eth1, ... in order)
    NsMode net, pid, ipc;
    nlohmann::json portMappings = nlohmann::json::array();
    bool tty = false;         ///< -t: PID 1 gets a pseudo-terminal
    bool interactive = false; ///< -i: stdin stays open (else /dev/null)
    bool rm = false;          ///< --rm: remove the state at exit (foreground: always)
    bool createOnly = false;  ///< `create`: record the container, do not start it
    int stopSignal = 15;      ///< --stop-signal
    int stopTimeout = 10;     ///< --stop-timeout (seconds before SIGKILL in `stop`)
    std::vector<std::string> dns, dnsSearch, dnsOption; ///< --dns, --dns-search, --dns-option
    std::vector<std::pair<std::string, std::string>> addHosts; ///< --add-host NAME:IP
    std::string ip, mac;           ///< --ip, --mac-address (CNI_ARGS IP=, MAC=)
    int64_t logMaxBytes = 8 << 20; ///< --log-opt max-size (one rotated file kept)
};

/// RunOptions as recorded in state.json ("config"), so `start` and `restart` can run the same
/// container again; and back. Missing keys keep RunOptions' defaults; a value of the wrong type
/// is Code::DecodeFailure naming the key (`key "config.limits.pids": expected an integer, ...`).
nlohmann::json runOptionsToJson(const RunOptions& o);
Expected<RunOptions> runOptionsFromJson(const nlohmann::json& j);

/// Checks a container id / network name against ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ (≤ 64 chars).
bool validName(const std::string& name);
/// A fresh random 12-hex-digit id.
std::string newContainerId();
/// "HOST:CTR[:ro|rw]" (absolute paths). Error names the flag value.
Expected<Volume> parseVolume(const std::string& spec);
/// "nofile=1024[:4096]" (Docker's names: core cpu data fsize locks memlock msgqueue nice nofile
/// nproc rss rtprio rttime sigpending stack as; "unlimited" or -1 allowed).
Expected<Ulimit> parseUlimit(const std::string& spec);
/// "UID[:GID]" (numeric).
Expected<std::pair<uid_t, gid_t>> parseUser(const std::string& spec);
/// "host", "container:ID" (and "none"/"NAME" for --net, handled by the caller).
Expected<NsMode> parseNsMode(const std::string& flag, const std::string& value);
/// One --security-opt value: "seccomp=unconfined", "seccomp=FILE" (a Docker/OCI JSON profile,
/// read and parsed now), "no-new-privileges[=true]" / "no-new-privileges:true" (always in effect
/// in tether). Anything else (apparmor=, label=, =false) is an error naming the value.
Status applySecurityOpt(RunOptions& opts, const std::string& value);
/// -p in every form podman accepts: "[HOSTIP:]HOSTPORT:CTRPORT[/proto]", ranges
/// "8080-8081:80-81" (equal lengths), "HOSTIP::CTRPORT" and "CTRPORT" (hostPort 0: a free
/// port is picked by assignHostPorts()). One mapping per port.
Expected<std::vector<nlohmann::json>> parsePortSpec(const std::string& spec);
/// Gives mappings with hostPort 0 a free host port (bound and released, as podman picks one),
/// and refuses a host port a host socket already holds ("address already in use").
Status assignHostPorts(nlohmann::json& mappings);
/// -e entry: "K=V" as is; "K" takes K from the caller's environment (skipped when unset, as
/// podman); "=x", "" and names with whitespace are refused.
Expected<std::optional<std::string>> parseEnvEntry(const std::string& entry,
                                                   const std::string& flag = "-e");
/// --env-file: one -e entry per line; blank lines and lines starting with # are skipped.
Expected<std::vector<std::string>> readEnvFile(const std::string& path);
/// -u NAME|UID[:GROUP|GID] against <root>/etc/passwd and <root>/etc/group (a name that is not
/// there is an error naming the file; a user name without group gives its passwd gid).
Expected<std::pair<uid_t, gid_t>> resolveUser(const std::string& spec, const std::string& root);
/// --add-host NAME:IP (IPv6 may be bracketed).
Expected<std::pair<std::string, std::string>> parseAddHost(const std::string& spec);
/// True when `text` is an IPv4 or IPv6 address.
bool validIp(const std::string& text);
/// Validates cross-field rules (rootfs vs image, network modes vs -p, names, paths).
Status validateRunOptions(const RunOptions& opts);

} // namespace tether::rt
