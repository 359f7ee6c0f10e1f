// Process confinement applied in the container just before exec: capabilities (Docker's
// default set with --cap-add/--cap-drop, bounding set included), user switch, no_new_privs and a
// seccomp filter (built from a profile, seccomp_profile.hpp).
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

/// Loads `filter` (seccompFilterFor(), seccomp_profile.hpp) in the calling process; sets
/// no_new_privs first. Runs in the container process after applyCredentials, right before exec.
Status loadSeccomp(const std::vector<sock_filter>& filter);

} // namespace tether::rt
