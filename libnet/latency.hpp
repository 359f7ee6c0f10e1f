#pragma once
// The latency machinery, in one place: what tether does so that a plugin does not wait for work
// the kernel (or a helper) can finish after the plugin has answered. Design note:
// docs/latency.md. Three mechanisms, each switchable off by one environment variable:
//
//   TETHER_IPAM_OVERLAP=0     bridge/veth run IPAM ADD on a thread while they create links
//                             (plugins/iface/pending_ipam.hpp); off: IPAM runs first, then links.
//   TETHER_DETACHED_DELETE=0  a link's deletion returns once the kernel announced it, while the
//                             kernel's deferred cleanup (~15 ms) finishes in the helper process
//                             (libnet/link_detach.hpp); off: the plugin waits for the kernel.
//   TETHER_NF_HOLDER=0        the process's netfilter socket is handed to the helper process at
//                             exit instead of being released (libnet/nf_socket.hpp); off: it is
//                             closed at exit, and the plugin pays the kernel's flush.
//
// "0", "false", "no" and "off" switch a mechanism off; unset or anything else leaves it on.
// With both helper mechanisms off a plugin never leaves a process behind.

namespace tether::net {

/// A mechanism that hides latency.
enum class Latency {
    IpamOverlap,    ///< TETHER_IPAM_OVERLAP
    DetachedDelete, ///< TETHER_DETACHED_DELETE
    NfHolder,       ///< TETHER_NF_HOLDER
};

/// True unless the mechanism's environment variable switches it off. Read on every call (cheap;
/// tests flip them).
[[nodiscard]] bool latencyEnabled(Latency mechanism);

} // namespace tether::net
