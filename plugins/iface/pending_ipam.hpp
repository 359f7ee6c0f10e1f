// IPAM ADD running next to the plugin's own kernel work (in-process for our own host-local,
// else a separate process): bridge/veth start it first and create their links while it runs.
#pragma once

#include <functional>
#include <optional>
#include <thread>

#include "base/error.hpp"
#include "cni/result.hpp"
#include "cni/skel.hpp"

namespace tether::plugin {

/// One IPAM ADD (`args.conf.ipamType` with the full config, as cni::delegateAdd) started on its
/// own thread (in the constructor, when TETHER_IPAM_OVERLAP switches the overlap off). take() waits
/// for the result and hands over the lease: the caller then owns its release. If take() was never
/// called or the object goes away first, the destructor waits and releases a granted lease with
/// IPAM DEL, so an ADD that fails after start() leaves no lease. `args` must outlive the object.
class PendingIpamAdd {
  public:
    explicit PendingIpamAdd(const cni::CmdArgs& args);
    /// Checks the IPAM config before anything is created, when the IPAM plugin runs in-process
    /// (cni::validateBuiltinDelegate); an external IPAM plugin is trusted to check its own.
    static Status validate(const cni::CmdArgs& args);
    PendingIpamAdd(const PendingIpamAdd&) = delete;
    PendingIpamAdd& operator=(const PendingIpamAdd&) = delete;
    ~PendingIpamAdd();

    /// Waits for IPAM ADD and returns its result (or its error). Call at most once.
    Expected<cni::Result> take();

  private:
    const cni::CmdArgs& args_;
    std::optional<Expected<cni::Result>> result_;
    std::thread thread_;
    bool taken_ = false;
};

} // namespace tether::plugin
