// A private /run for tests that pin namespaces or keep state under /run (fixtures, /run/netns,
// /run/tether): without it the files would land on the host's /run even inside `unshare --mount`.
#pragma once

namespace tether::test {

/// Once per process: enters a mount namespace of its own with private propagation (ctest already
/// starts e2e/netns suites in one; a manual run may not) and mounts a fresh tmpfs on /run.
/// Catch2 FAIL when any step is refused.
void isolateRunDir();

} // namespace tether::test
