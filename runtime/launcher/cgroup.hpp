// A container's cgroup on cgroup v1, hybrid (v1 controllers + an empty v2 mount) or v2: create
// with limits, place a process, freeze/thaw, detect OOM kills, kill everything, remove.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "runtime/launcher/devices.hpp"

namespace tether::rt {

enum class CgroupMode { V1, Hybrid, V2 };

/// statfs(/sys/fs/cgroup): cgroup2fs -> V2; a tmpfs whose /sys/fs/cgroup/unified is cgroup2 ->
/// Hybrid; otherwise V1. Errors when /sys/fs/cgroup is neither.
Expected<CgroupMode> detectCgroupMode();
const char* cgroupModeName(CgroupMode mode);

/// Limits in user units; unset fields are left at the kernel default.
struct CgroupLimits {
    std::optional<int64_t> memoryBytes;
    std::optional<int64_t>
        memorySwapBytes; ///< memory + swap total, as Docker's --memory-swap; -1 = unlimited
    std::optional<int64_t> pids;
    std::optional<double> cpus;        ///< CFS quota in CPUs (0.5 = half a CPU)
    std::optional<uint64_t> cpuShares; ///< v1 shares (2..262144); v2 gets the weight conversion
};

/// The owner tag of the launcher instance whose state lives in `stateRoot`: 8 hex digits of a
/// hash of the path (trailing slashes dropped). A container's cgroup directory is named
/// "<tag>-<id>", so `gc` of one instance (state dir) never touches another's containers even
/// when both use the same cgroup parent.
std::string cgroupOwnerTag(const std::string& stateRoot);

/// The directories of one container's cgroup. v2: one directory. v1: memory, pids, cpu,
/// freezer and devices. Hybrid: a directory in the unified tree (tracking, cgroup.freeze,
/// cgroup.kill, the eBPF device program) plus only the v1 controllers a limit asks for.
class Cgroup {
  public:
    /// Creates `<own cgroup of this process>/<parent>/<tag>-<id>` (tag: cgroupOwnerTag of
    /// `stateRoot`) in every used hierarchy, writes the limits and installs the device policy
    /// `devices` (v2/hybrid: an eBPF program on the unified directory; v1, or hybrid when the
    /// program cannot be loaded: the devices controller). A policy that can be enforced by
    /// neither is an error. TETHER_DEVICE_POLICY=devices selects the v1 controller on hybrid. An
    /// existing directory is an error (Conflict). On failure removes what it made.
    static Expected<Cgroup> create(const std::string& stateRoot, const std::string& parent,
                                   const std::string& id, const CgroupLimits& limits,
                                   const std::vector<DeviceRule>& devices);
    /// Rebuilds the handle from state (inspect/exec/rm/gc): missing keys and dirs are fine; a
    /// value of the wrong type is Code::DecodeFailure naming the key ("cgroup.dirs").
    static Expected<Cgroup> fromJson(const nlohmann::json& j);
    [[nodiscard]] nlohmann::json toJson() const;

    /// Writes `pid` into cgroup.procs of every directory (but the unified one when
    /// `exceptUnified`: the process was cloned into it with CLONE_INTO_CGROUP).
    Status addPid(pid_t pid, bool exceptUnified = false) const;
    /// The v2 directory a process can be cloned into (clone3 CLONE_INTO_CGROUP); empty on v1.
    [[nodiscard]] const std::string& unifiedDir() const { return unified_; }
    /// Freezes (v1 freezer.state FROZEN / v2 cgroup.freeze 1) and waits until frozen, or thaws.
    Status setFrozen(bool frozen) const;
    [[nodiscard]] bool frozen() const;
    /// True when the kernel OOM-killed a process in this cgroup (v1 memory.oom_control oom_kill
    /// or memory.failcnt at the limit; v2 memory.events oom_kill).
    [[nodiscard]] bool oomKilled() const;
    /// Pids currently in the cgroup (from the first directory that exists).
    [[nodiscard]] std::vector<pid_t> pids() const;
    /// SIGKILLs every process: cgroup.kill where a v2 directory exists, else freeze, kill, thaw,
    /// repeated until empty. Missing directories are success.
    Status killAll() const;
    /// rmdir every directory, retrying EBUSY for up to ~2 s, then the parent directory when it
    /// has become empty. Missing directories are success.
    Status remove() const;
    [[nodiscard]] const std::vector<std::string>& dirs() const { return dirs_; }

    /// The container cgroup directories under `parent` that exist in any hierarchy and carry
    /// the owner tag of `stateRoot`, by container id (gc). Others' directories are not listed.
    static std::vector<std::pair<std::string, Cgroup>> listUnder(const std::string& stateRoot,
                                                                 const std::string& parent);
    /// How the device policy is enforced: "ebpf", "devices" (v1 controller) or "" (none).
    [[nodiscard]] const std::string& devicePolicy() const { return devicePolicy_; }

  private:
    CgroupMode mode_ = CgroupMode::V1;
    std::vector<std::string> dirs_; ///< all dirs (for procs/remove)
    std::string memory_, pids_, cpu_, freezer_, unified_, devices_;
    std::string devicePolicy_;
};

} // namespace tether::rt
