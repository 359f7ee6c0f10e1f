#pragma once
// The helper process: one small process per network namespace (`tether-helper`, reached at the
// abstract unix socket `tether/helper-v2` of that netns) that finishes work a plugin must not
// wait for. It holds netfilter sockets handed to it until things are quiet (their release would
// stall the netns's nf_tables mutex), and it runs link deletions whose kernel cleanup outlasts
// the announcement a plugin waits for. See docs/latency.md.
//
// Why one process and not a child per job: a plugin's children outlive it and are re-parented to
// the nearest child subreaper (a container runtime or shim) or init. A subreaper that does not
// reap strangers would collect a zombie per DEL. The helper reaps its own workers (SIGCHLD
// ignored), and it stays alive — idle, holding nothing — for as long as it is adopted by a
// subreaper, so nothing of ours ever becomes a zombie there; under init it exits when idle.

#include <cstddef>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace tether::net {

/// Hands `fd` (a duplicate is sent; the caller still closes its own) to the helper of the calling
/// thread's netns, starting it when none runs. False when no helper could be reached or started.
/// Only a helper of our own uid receives it.
bool helperHold(int fd);

/// Asks the helper of the calling thread's netns (started when none runs) to send the netlink
/// request `req` (`len` bytes, at most 512) on `socketFd` (any netns) and read its ack. Returns a
/// connection that becomes readable with the ack's errno as one `int` (0 = success) once the
/// kernel answered, or hangs up if the worker died. Error when no helper can be reached.
Expected<UniqueFd> helperSendRequest(int socketFd, const void* req, size_t len);

/// Reads the errno a helperSendRequest connection reports; EPIPE when the worker went away.
int helperRequestResult(int conn);

} // namespace tether::net
