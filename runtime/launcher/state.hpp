// A container's record on disk: <stateRoot>/<id>/state.json, written atomically, and a lock on
// the directory itself that serialises teardown between the supervisor, `rm` and `gc`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {

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
Status writeState(const LauncherPaths& paths, const std::string& id, const nlohmann::json& state);
/// Reads state.json. A missing container is Code::UnknownContainer "no such container <id>".
Expected<nlohmann::json> readState(const LauncherPaths& paths, const std::string& id);
/// Ids of every state dir (sorted).
std::vector<std::string> listContainers(const LauncherPaths& paths);
/// "created", "creating", "running", "paused", "exited" or "dead" (the supervisor is gone
/// without having recorded the exit), from the recorded pids, their start times and the
/// freezer; a recorded "exited"/"created" stays so.
std::string liveStatus(const nlohmann::json& state);

/// flock(LOCK_EX) on the state dir <stateRoot>/<id> for the object's lifetime; a missing dir is
/// not an error (the lock is then a no-op). `run` holds the same lock from creating the dir
/// until the first state.json is written.
class StateLock {
  public:
    StateLock(const LauncherPaths& paths, const std::string& id);
    ~StateLock();
    StateLock(const StateLock&) = delete;
    StateLock& operator=(const StateLock&) = delete;

  private:
    int fd_ = -1;
};

} // namespace tether::rt
