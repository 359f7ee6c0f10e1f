// `tether net gc --all`: housekeeping for every network at boot and on a timer
// (packaging/systemd/tether-gc.service, docs/packaging.md).
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "libcni/attach.hpp"

namespace tether::rt {

/// GCs every network of paths.configDir (plus the built-in default unless a config defines it,
/// plus networks known only from cached attachments, using the cached conflist). An attachment is
/// valid while its netns path is still a network namespace; the others are DEL'd, then every
/// plugin gets GC with the valid ones. Unlike `tether net gc NETWORK` (cnitool gc, which DELs
/// everything) this is safe while containers run. Returns one line per network; continues past
/// errors and returns them joined.
Expected<std::vector<std::string>> gcAllNetworks(const NetPaths& paths);

} // namespace tether::rt
