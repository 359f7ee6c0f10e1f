// The files a container expects in /etc: hostname, hosts (its own name and address, --add-host)
// and resolv.conf (--dns*, else the network's DNS result, else the host's). They live in the
// state dir and are bind-mounted over the image's files; they are created empty before clone (so
// the child can mount them before the network exists) and filled after CNI ADD, before the
// release.
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "libcni/attach.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {

/// Creates <stateDir>/{hostname,hosts,resolv.conf} empty and returns the bind mounts onto
/// /etc/... Targets that are symlinks in `rootDir` (the image or rootfs) are left alone, and so
/// are missing ones when `existingOnly` (--userns: the mapped root cannot create them).
Expected<std::vector<Volume>> prepareEtcFiles(const std::string& stateDir,
                                              const std::string& rootDir, bool existingOnly);
/// Fills the files made by prepareEtcFiles (in place: the bind mounts pin the inodes).
Status writeEtcFiles(const std::string& stateDir, const RunOptions& o,
                     const std::vector<Attached>& attached);

} // namespace tether::rt
