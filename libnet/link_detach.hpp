#pragma once
// Deleting a link without waiting for the kernel's deferred part of the deletion.
//
// RTM_DELLINK returns only after netdev_run_todo: an rcu_barrier and the wait for the device's
// last references, ~15 ms here, after the device is already unlisted, its addresses and routes
// gone, its name free and the RTM_DELLINK notification sent. deleteLinkDetached hands the request
// to a short-lived child process and returns as soon as that notification arrives, so the caller
// sees the same state as after a synchronous delete but does not wait for the kernel's cleanup.
// The child is a worker of the helper process (libnet/helper_process.hpp), never the plugin's
// own, so it cannot become a zombie of a runtime that does not reap strangers.
// TETHER_DETACHED_DELETE=0 switches this off (libnet/latency.hpp).

#include <string_view>

#include "base/error.hpp"
#include "libnet/netns.hpp"

namespace tether::net {

/// Deletes link `name` in `ns` (a veth also takes its peer with it). Returns true once the link
/// is gone from `ns` — unregistered and announced — while the kernel's freeing finishes in the
/// helper's worker; false when there was no such link. Errors from the kernel are returned as
/// with a synchronous delete (the child's result is awaited whenever the announcement does not
/// come). Falls back to a synchronous delete when the helper cannot be reached or the mechanism
/// is switched off.
Expected<bool> deleteLinkDetached(const Netns& ns, std::string_view name);

} // namespace tether::net
