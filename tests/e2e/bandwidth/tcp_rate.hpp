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

/// The rate of a transfer shaped to `targetBits` per second: measureTcpRate for `seconds`, up to
/// three times until one lands within 10% of the target, returning the highest. A loaded machine
/// can only starve the sender, so a low reading is retried; a reading above 110% of the target is
/// never excused (Catch2 CHECK on every attempt): shaping that lets more through fails.
double measureShapedRate(ScratchNetns& from, ScratchNetns& to, const std::string& toAddr,
                         double targetBits, double seconds = 1.8);

} // namespace tether::test
