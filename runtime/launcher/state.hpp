// A container's record on disk: <stateRoot>/<id>/state.json, written atomically, and a lock on
// the directory itself that serialises teardown between the supervisor, `rm` and `gc`. The
// record is a ContainerState in memory; state_json.cpp is its one JSON mapping.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {

/// Where a container is in its life. On disk ("status") only creating, created, running and
/// exited are recorded; paused and dead are derived by liveStatus().
enum class ContainerStatus { Creating, Created, Running, Paused, Exited, Dead };
/// "creating", "created", "running", "paused", "exited", "dead".
const char* statusName(ContainerStatus s);
/// The inverse of statusName; nullopt for anything else.
std::optional<ContainerStatus> parseStatus(std::string_view name);
/// Running or paused: the container's processes exist.
inline bool isUp(ContainerStatus s) {
    return s == ContainerStatus::Running || s == ContainerStatus::Paused;
}

/// A process as recorded: its pid and its start time (/proc/<pid>/stat field 22), so that a
/// reused pid is not taken for it.
struct ProcessRef {
    pid_t pid = 0;
    uint64_t startTime = 0;
    /// processAlive(pid, startTime): the same process exists and is not a zombie.
    [[nodiscard]] bool alive() const;
};

/// One network attached by CNI ADD ("network.attached[]").
struct NetworkAttachment {
    std::string network;
    std::string ifname;
    std::vector<std::string> ips; ///< CIDR form, as in the CNI result
    std::string mac;              ///< of the container-side interface ("" when not reported)
};

/// What the launcher asked CNI for ("network"): enough for DEL after a crash.
struct NetworkRecord {
    std::vector<std::string> networks;
    nlohmann::json capabilityArgs = nlohmann::json::object();
    std::vector<std::pair<std::string, std::string>> cniArgs; ///< [["IP", "..."], ...]
    /// The ADD results; absent until ADD returned (a crash during ADD leaves none).
    std::optional<std::vector<NetworkAttachment>> attached;
};

/// A custom seccomp profile ("seccompProfile"), kept for `exec`; the built-in one is not.
struct SeccompRecord {
    std::string source; ///< the file named by --security-opt seccomp=FILE
    std::string json;   ///< its text
};

/// The container's uid/gid ("user"), for `exec`.
struct ContainerUser {
    uid_t uid = 0;
    gid_t gid = 0;
};

/// Everything state.json holds. Each std::optional is a key that only some records have (a
/// created container has no supervisor, an exited one no cgroup or network): absent stays
/// absent when the record is written back, so the file keeps the shape earlier versions wrote.
struct ContainerState {
    std::string id;                                     ///< "id"
    ContainerStatus status = ContainerStatus::Creating; ///< "status" (inspect: the live one)
    std::vector<std::string> command;                   ///< "command"
    int64_t created = 0;                                ///< "created", epoch seconds
    bool detached = false;                              ///< "detached": -d, or create/start
    std::optional<bool> seccomp;                        ///< "seccomp": filter applied
    std::optional<bool> userns;                         ///< "userns"
    std::string hostname;                               ///< "hostname"
    nlohmann::json ports = nlohmann::json::array();     ///< "ports": -p mappings, host ports set
    std::optional<RunOptions> config;                   ///< "config": for start/restart
    std::optional<SeccompRecord> seccompProfile;        ///< "seccompProfile"
    std::optional<ProcessRef> supervisor;               ///< "supervisorPid", "supervisorStartTime"
    std::optional<std::vector<int>> caps;               ///< "caps": effective capabilities
    std::optional<ContainerUser> user;                  ///< "user"
    std::optional<Cgroup> cgroup;                       ///< "cgroup" (dropped at exit)
    std::optional<ProcessRef> process;                  ///< "pid", "pidStartTime": PID 1
    std::optional<std::string> netns;                   ///< "netns": the pin (dropped at exit)
    std::optional<NetworkRecord> network;               ///< "network" (dropped at exit)
    std::optional<int64_t> startedAt;                   ///< "startedAt"
    std::optional<int64_t> finishedAt;                  ///< "finishedAt"
    std::optional<int> exitCode;                        ///< "exitCode"
    std::optional<bool> oomKilled;                      ///< "oomKilled"
    /// Keys this version does not know (a newer version's), written back unchanged.
    nlohmann::json unknownKeys = nlohmann::json::object();

    /// PID 1's pid, 0 when not (yet) recorded.
    [[nodiscard]] pid_t pid() const { return process ? process->pid : 0; }
    /// True when the recorded supervisor process still exists.
    [[nodiscard]] bool supervisorAlive() const { return supervisor && supervisor->alive(); }
};

/// The state as state.json holds it (the same keys as earlier versions wrote).
nlohmann::json toJson(const ContainerState& s);
/// Reads a state. Unknown keys are kept in unknownKeys, missing ones get the defaults above; a
/// value of the wrong type or an unknown status is Code::DecodeFailure naming the key
/// (`key "network.attached[0].ips": expected an array of strings, got string`).
Expected<ContainerState> containerStateFromJson(const nlohmann::json& j);

/// The file `run`/`create` put in a state dir right after making it: `gc` removes a state dir
/// without state.json only when it carries this mark (a launcher that died before writing
/// state.json), never another directory that happens to be under the state root (the fixture
/// registry /run/tether/fixtures, anything else).
inline constexpr const char* kStateDirMark = ".tether-container";
/// Creates the state dir <stateRoot>/<id> with kStateDirMark already inside, atomically: it is
/// built as <stateRoot>/.new-<id>-<pid> and renamed into place without replacing anything, so a
/// launcher killed at any moment leaves nothing, a marked dir, or a ".new-" dir (all of which
/// `gc` removes). An existing <id> is Code::Conflict "container <id> already exists".
Status createStateDir(const LauncherPaths& paths, const std::string& id);
/// Removes ".new-" dirs of createStateDir older than a few seconds (launchers that died between
/// the mkdir and the rename). Returns one line per removed dir.
std::vector<std::string> removeAbandonedStateDirs(const LauncherPaths& paths);
/// True when `dir` carries kStateDirMark or has a state.json.
bool isStateDir(const std::string& dir);

/// Writes state.json via a temporary file + rename (0600).
Status writeState(const LauncherPaths& paths, const ContainerState& state);
/// Reads state.json. A missing container is Code::UnknownContainer "no such container <id>"; a
/// file that is not JSON or has a malformed key is Code::DecodeFailure
/// "<dir>/state.json: key "pid": expected an integer, got string".
Expected<ContainerState> readState(const LauncherPaths& paths, const std::string& id);
/// Ids of every state dir (sorted).
std::vector<std::string> listContainers(const LauncherPaths& paths);
/// Created, Creating, Running, Paused, Exited or Dead (the supervisor is gone without having
/// recorded the exit), from the recorded pids, their start times and the freezer; a recorded
/// Exited/Created stays so.
ContainerStatus liveStatus(const ContainerState& state);

/// flock(LOCK_EX) on the state dir <stateRoot>/<id> for the object's lifetime; a missing dir is
/// not an error (the lock is then a no-op). `run` holds the same lock from creating the dir
/// until the first state.json is written.
class StateLock {
  public:
    StateLock(const LauncherPaths& paths, const std::string& id);
    StateLock(const StateLock&) = delete;
    StateLock& operator=(const StateLock&) = delete;

  private:
    UniqueFd fd_;
};

} // namespace tether::rt
