#pragma once
// Crash-consistency hook for tests (docs/reliability.md, tests/crash). Only a build configured
// with -DTETHER_FAULT_INJECTION=ON has it: there TETHER_FAULT_POINT("name") SIGKILLs the calling
// process when the environment variable TETHER_FAULT_POINT equals "name", so a test can crash a
// plugin or the runtime at an exact step. In every other build the macro expands to nothing and
// production binaries carry no hook. Names are "<component>.<step>" (see tests/crash/points.txt).
#ifdef TETHER_FAULT_INJECTION
#include <csignal>
#include <cstdlib>
#include <string_view>
#include <unistd.h>

namespace tether::fault {

// Kills the process with SIGKILL (no cleanup, no flush) when TETHER_FAULT_POINT names `step`.
inline void point(std::string_view step) {
    const char* want = std::getenv("TETHER_FAULT_POINT");
    if (want != nullptr && step == want) ::kill(::getpid(), SIGKILL);
}

} // namespace tether::fault

#define TETHER_FAULT_POINT(step) ::tether::fault::point(step)
#else
#define TETHER_FAULT_POINT(step) ((void)0)
#endif
