// The on-disk record of a running fixture: <stateDir>/<name>/fixture.json lists every namespace
// and container it may have created, written *before* the first one is created, so a process
// that dies mid-run leaves a marker that `tether fixture gc` finds. Teardown works from the record
// alone, which is what lets the CLI's `down` and `gc` remove fixtures brought up elsewhere.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace tether::fixture {

/// Every fixture name (and so every pinned netns file) starts with this, which is how `gc --all`
/// recognises netns files without a record.
inline constexpr std::string_view kNamePrefix = "tf-";

struct ContainerRecord {
    std::string name;
    std::string hostNetns; ///< where the CNI plugins run
    std::string netns;     ///< the container's pinned netns
    std::string network;   ///< the network list's name
    std::string configDir; ///< holds <network>.conflist
    std::string cniPath;
    std::string cacheDir;
    std::string containerId;
};

struct Record {
    std::string name;        ///< full name, starting with kNamePrefix
    pid_t ownerPid = 0;      ///< 0 = persistent (brought up by the CLI; removed by `down`)
    uint64_t ownerStart = 0; ///< the owner's start time (/proc/<pid>/stat field 22)
    std::string netnsDir;
    std::string stateDir;
    std::map<std::string, std::string> netns; ///< topology name -> pinned netns path
    std::vector<ContainerRecord> containers;

    /// <stateDir>/<name>
    [[nodiscard]] std::string dir() const { return stateDir + "/" + name; }
    /// Whether the owning process still runs (persistent records always count as alive).
    [[nodiscard]] bool ownerAlive() const;
};

/// Start time of `pid` in clock ticks since boot, 0 if the process does not exist.
uint64_t processStartTime(pid_t pid);

/// Creates <stateDir>/<name> (mkdir: an existing one -> code 102 "fixture <name> already exists")
/// and writes the record into it.
Status claimRecord(const Record& rec);
/// Rewrites the record (atomically, via rename).
Status writeRecord(const Record& rec);
/// Reads <stateDir>/<name>/fixture.json. Missing -> code 3 "no fixture <name>".
Expected<Record> readRecord(const std::string& stateDir, const std::string& name);
/// All records under stateDir (unreadable ones are skipped), sorted by name.
std::vector<Record> listRecords(const std::string& stateDir);

/// Removes everything the record names: detaches containers (CNI DEL inside their host), removes
/// the pinned namespaces (and any other <netnsDir>/<name>-* file), then the state directory.
/// Runs every step even when one fails and returns the collected errors.
Status teardownRecord(const Record& rec);

/// What gc removed.
struct GcReport {
    std::vector<std::string> fixtures;   ///< records whose owner died (all with `all`)
    std::vector<std::string> strayNetns; ///< tf-* netns files with no record (only with `all`)
};
/// Tears down fixtures whose owner process is gone. With `all`, also persistent ones and netns
/// files in netnsDir starting with kNamePrefix that no record owns.
Expected<GcReport> gc(const std::string& stateDir, const std::string& netnsDir, bool all);

} // namespace tether::fixture
