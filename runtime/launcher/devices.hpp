// The container's device policy: which device nodes its processes may create (mknod) and open.
// The default set is podman's/runc's: null, zero, full, random, urandom, tty, ptmx and the
// container's own ptys (136:*), mknod of any node allowed but opening nothing else; `--device`
// adds one host device. Enforced by the cgroup: on v2 (and on hybrid, whose unified tree the
// container is in) an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program attached to the container's
// cgroup, on v1 the `devices` controller (devices.deny "a" then one devices.allow per rule).
#pragma once

#include <linux/bpf.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace tether::rt {

/// One allow rule. `type` 'c' (char), 'b' (block) or 'a' (both); major/minor -1 = any;
/// `access` a subset of "rwm" (read, write, mknod).
struct DeviceRule {
    char type = 'c';
    int64_t major = -1;
    int64_t minor = -1;
    std::string access = "rwm";
    bool operator==(const DeviceRule&) const = default;
};

/// A host device given with `--device HOST[:CTR][:PERMS]`: created at `containerPath` in the
/// container's /dev and allowed with `access`.
struct DeviceRequest {
    std::string hostPath;
    std::string containerPath;
    std::string access = "rwm";
    char type = 'c';
    uint32_t major = 0, minor = 0;
};

/// Parses `--device HOST[:CTR][:PERMS]` (podman's syntax; CTR defaults to HOST, PERMS to rwm)
/// and stats HOST, which must be a character or block device. Errors name the value.
Expected<DeviceRequest> parseDeviceFlag(const std::string& spec);

/// The default allow list (runc's AllowedDevices, as podman applies it) plus one rule per
/// request.
std::vector<DeviceRule> deviceRules(const std::vector<DeviceRequest>& requests);

/// The v1 `devices.allow` line of a rule: "c 1:3 rwm", "b *:* m".
std::string deviceRuleLine(const DeviceRule& rule);

/// The eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) that returns 1 (allow) when the access
/// matches one of `rules` and 0 (EPERM) otherwise. Pure: unit-testable without a kernel.
std::vector<bpf_insn> buildDeviceProgram(const std::vector<DeviceRule>& rules);

/// Loads `buildDeviceProgram(rules)` into the kernel (bpf(BPF_PROG_LOAD)). The verifier's
/// complaint, if any, is in the error.
Expected<UniqueFd> loadDeviceProgram(const std::vector<DeviceRule>& rules);

/// Attaches a loaded device program to the cgroup v2 directory `cgroupDir`
/// (bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)): every process in it and its
/// descendants is then checked against it. The attachment lives as long as the cgroup.
Status attachDeviceProgram(const std::string& cgroupDir, int progFd);

/// Writes the v1 policy into a `devices` controller directory: "a" to devices.deny, then one
/// devices.allow line per rule.
Status writeV1DeviceRules(const std::string& devicesDir, const std::vector<DeviceRule>& rules);

} // namespace tether::rt
