// macspoofchk: frames entering the bridge from a container's host veth must carry the container's
// MAC as source, else they are dropped. nftables objects laid out as the reference plugin's
// (pkg/link/spoofcheck.go): table `bridge nat`, base chain PREROUTING (filter, prerouting,
// priority -300), a jump rule per port commented `macspoofchk-<containerId>-<ifname>`, and two
// chains per attachment, `cni-br-iface-<hash>` and `cni-br-iface-<hash>-mac`.
#pragma once

#include <string>

#include "base/error.hpp"

namespace tether::bridge {

/// Identifies one attachment's spoof-check objects.
struct SpoofCheck {
    std::string containerId;
    std::string ifname;   ///< CNI_IFNAME (container side)
    std::string hostVeth; ///< bridge port the container's frames enter by (ADD only)
    std::string mac;      ///< the container interface's MAC (ADD only)
};

/// Installs the rules in one atomic nftables transaction (the calling thread's netns). Re-running
/// for the same attachment replaces its rules. Errors: code 100 from nftables, 50 without it.
Status setupSpoofCheck(const SpoofCheck& sc);

/// Removes the attachment's jump rule and chains in one transaction. Already gone (no table, no
/// chain) is success, so a second DEL succeeds.
Status teardownSpoofCheck(const SpoofCheck& sc);

} // namespace tether::bridge
