// seccomp profiles in Docker's JSON format (which is also what OCI runtimes accept, plus
// Docker's archMap and includes/excludes): parsed and resolved for one container, compiled to
// classic BPF with libseccomp, and cached by content so a container start reads a small file
// instead of compiling.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace tether::rt {

/// One comparison of a syscall argument ("args" entry): `op` is a libseccomp scmp_compare.
struct SeccompArg {
    unsigned index = 0;
    uint64_t value = 0;
    uint64_t valueTwo = 0;
    int op = 0;
};

/// One rule after includes/excludes were applied: these syscalls get `action` (a libseccomp
/// SCMP_ACT_* value, errno included) when every arg comparison holds.
struct SeccompRule {
    std::vector<std::string> names;
    uint32_t action = 0;
    std::vector<SeccompArg> args;
};

/// A profile resolved for one container: default action, the architectures the filter accepts
/// (libseccomp SCMP_ARCH_* tokens besides the native one) and the rules that apply.
struct SeccompProfile {
    uint32_t defaultAction = 0;
    std::vector<uint32_t> arches;
    std::vector<SeccompRule> rules;
};

/// The built-in default profile (Docker's default policy without io_uring), as JSON text.
const std::string& defaultSeccompProfile();

/// Parses a Docker- or OCI-format profile: defaultAction, defaultErrnoRet, architectures or
/// archMap (the entry of the native architecture adds its subArchitectures), syscalls with
/// names (or name), action, errnoRet, args (index, value, valueTwo, op) and includes/excludes
/// on caps (the container's `caps`, all required / any excludes), arches (the native one, e.g.
/// "amd64") and minKernel. Errors name `source` and the offending key or value;
/// SCMP_ACT_NOTIFY is refused (no agent to notify).
Expected<SeccompProfile> parseSeccompProfile(const std::string& json, const std::vector<int>& caps,
                                             const std::string& source);

/// Compiles `profile` with libseccomp (binary-tree syscall dispatch; a syscall of an
/// architecture not in the filter kills the process; unknown syscall names are skipped, as runc
/// does) and returns the BPF program.
Expected<std::vector<sock_filter>> compileSeccomp(const SeccompProfile& profile);

/// The BPF program for `json` and `caps`: read from `<cacheDir>/<hash>.bpf` when present (hash of
/// the profile text, the caps, the kernel release and the libseccomp version), otherwise parsed,
/// compiled and written there (temporary file + rename; a cache that cannot be written is not an
/// error). `source` names the profile in errors ("default" or the file).
Expected<std::vector<sock_filter>> seccompFilterFor(const std::string& json,
                                                    const std::vector<int>& caps,
                                                    const std::string& cacheDir,
                                                    const std::string& source);

} // namespace tether::rt
