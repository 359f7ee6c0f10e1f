// Process confinement applied in the container just before exec: capabilities (Docker's
// default set with --cap-add/--cap-drop, bounding set included), user switch, no_new_privs and a
// seccomp filter that fails dangerous syscalls with EPERM.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.hpp"

namespace tether::rt {

/// Docker's default capability set plus `add`, minus `drop` ("ALL" allowed in both; names with or
/// without the CAP_ prefix, any case). Unknown names are an error naming them. Returns cap numbers.
Expected<std::vector<int>> resolveCapabilities(const std::vector<std::string>& add,
                                               const std::vector<std::string>& drop);

/// Drops every capability outside `keep` from the bounding set, switches to uid/gid (setgroups
/// to just `gid`, keeping capabilities across the switch) and sets effective/permitted/
/// inheritable to `keep` (all empty for a non-root uid, as Docker does). Then sets no_new_privs.
/// Runs in the container process; errors name the step.
Status applyCredentials(const std::vector<int>& keep, uid_t uid, gid_t gid);

/// The seccomp filter as a classic BPF program: default allow, EPERM for the syscalls in
/// deniedSyscalls(), and only the native architecture (other ABIs, x32 included, are killed).
/// A capability in `caps` re-allows the syscalls it governs (CAP_SYS_ADMIN: mount family,
/// unshare, setns, bpf ...; CAP_SYS_BOOT: reboot; ...), as Docker's profile does. Built from
/// syscall numbers known at compile time: cheap enough to build in the launcher per container.
std::vector<sock_filter> seccompFilter(const std::vector<int>& caps);
/// Loads `filter` (built by seccompFilter) in the calling process; sets no_new_privs first.
/// Runs in the container process after applyCredentials, right before exec.
Status loadSeccomp(const std::vector<sock_filter>& filter);
/// Syscall names denied by loadSeccomp() (for docs and tests).
const std::vector<std::string>& deniedSyscalls();

} // namespace tether::rt
