// DEL helpers shared by the interface plugins: collect errors without stopping, and delete the
// container's interface tolerating a missing netns or link.
#pragma once

#include <string>

#include "base/error.hpp"
#include "cni/skel.hpp"

namespace tether::plugin {

/// Runs every teardown step and reports all failures together at the end.
class ErrorCollector {
  public:
    /// Records a failed step (a successful one is ignored).
    void add(const Status& st) {
        if (st) return;
        if (!errors_.empty()) errors_ += "; ";
        errors_ += st.error().text();
    }
    /// Success when nothing failed, else code 999 "<what> incomplete: <all errors>".
    [[nodiscard]] Status result(const std::string& what) const {
        if (errors_.empty()) return {};
        return fail(Code::Internal, what + " incomplete: " + errors_);
    }

  private:
    std::string errors_;
};

/// Deletes CNI_IFNAME inside CNI_NETNS. An empty or missing netns, or a missing link, means it
/// is already gone (success).
Status deleteContainerLink(const cni::CmdArgs& args);

} // namespace tether::plugin
