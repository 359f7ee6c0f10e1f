// A throwaway network namespace for tests: pinned on a file in a private temp dir, lo up,
// removed (with everything in it) when the object dies. Also runs commands (ip, ping) inside it
// so tests can observe kernel state the way a user would.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test {

/// What a command printed and how it ended.
struct ExecResult {
    int exitCode = -1; ///< exit status; 128 + signal when killed; 127 when exec failed
    std::string out;   ///< stdout
    std::string err;   ///< stderr
    /// stdout parsed as JSON (Catch2 FAIL if it is not JSON).
    [[nodiscard]] nlohmann::json json() const;
};

/// Runs argv[0] (looked up in PATH) with the given args in the calling thread's netns, without a
/// shell; captures stdout/stderr; kills it after `timeoutSec`. Catch2 FAIL if it cannot start.
ExecResult execHere(const std::vector<std::string>& argv, int timeoutSec = 30);
/// The same, but the child enters `ns` (setns) before exec.
ExecResult execIn(const net::Netns& ns, const std::vector<std::string>& argv, int timeoutSec = 30);

class ScratchNetns {
  public:
    /// Creates the namespace (Catch2 FAIL on error) and brings lo up in it.
    ScratchNetns();
    ~ScratchNetns();
    ScratchNetns(const ScratchNetns&) = delete;
    ScratchNetns& operator=(const ScratchNetns&) = delete;

    /// Path of the pinned netns file (usable as CNI_NETNS).
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] const net::Netns& netns() const { return ns_; }
    /// A NETLINK_ROUTE socket inside this namespace.
    [[nodiscard]] net::NetlinkSocket& nl() { return nl_; }

    /// Runs fn() with the calling thread inside this namespace and returns its result.
    template <class F> auto run(F&& fn) -> std::invoke_result_t<F> {
        net::NetnsGuard guard(ns_);
        failIfNotEntered(guard);
        return std::forward<F>(fn)();
    }

    /// Runs a command inside this namespace: exec({"ip", "-j", "addr"}).
    ExecResult exec(const std::vector<std::string>& argv, int timeoutSec = 30) const {
        return execIn(ns_, argv, timeoutSec);
    }

  private:
    static void failIfNotEntered(const net::NetnsGuard& guard);
    TempDir dir_;
    std::string path_;
    net::Netns ns_;
    net::NetlinkSocket nl_;
};

} // namespace tether::test
