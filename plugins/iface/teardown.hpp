// DEL helpers shared by the interface plugins: delete the container's interface tolerating a
// missing netns or link.
#pragma once

#include <string>

#include "base/error.hpp"
#include "cni/skel.hpp"

namespace tether::plugin {

/// Deletes CNI_IFNAME inside CNI_NETNS. An empty or missing netns, or a missing link, means it
/// is already gone (success).
Status deleteContainerLink(const cni::CmdArgs& args);

} // namespace tether::plugin
