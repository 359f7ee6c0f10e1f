// Measures TCP goodput between two namespaces: a listener in one, a sender in the other, both
// sockets driven from this process (a socket keeps the netns it was created in).
#pragma once

#include <string>

#include "tests/support/scratch_netns.hpp"

namespace tether::test {

/// Sends as fast as possible from `from` to `toAddr`:port (a listener opened in `to`) for
/// `seconds`, and returns the receiver's rate in bits/s over the transfer after the first
/// `warmupSeconds` (which absorbs the token bucket's initial burst). Catch2 FAIL on socket errors.
double measureTcpRate(ScratchNetns& from, ScratchNetns& to, const std::string& toAddr,
                      double seconds, double warmupSeconds = 0.3);

} // namespace tether::test
