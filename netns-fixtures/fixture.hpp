// A running topology: every host a pinned network namespace named <fixture>-<host> under
// netnsDir (so `ip netns exec` works on them), torn down in the destructor. Bring-up either
// completes or removes everything it made.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "netns-fixtures/registry.hpp"
#include "netns-fixtures/topology.hpp"

namespace tether::fixture {

struct Options {
    /// Fixture name; kNamePrefix is prepended when missing. Empty = kNamePrefix + 8 random hex
    /// digits, unique per instance so parallel tests never collide.
    std::string name;
    std::string netnsDir = "/run/netns";
    std::string stateDir = "/run/tether/fixtures";
    /// Owned by no process (the CLI's `up`): gc leaves it alone unless --all; `down` removes it.
    bool persistent = false;
};

/// What a command run inside a host printed and how it ended.
struct ExecResult {
    int exitCode = -1; ///< exit status; 128 + signal when killed (also on timeout); 127 = no exec
    std::string out;
    std::string err;
};

/// Runs argv (PATH lookup, no shell) with the child inside `ns`; captures stdout/stderr, kills
/// it after `timeoutSec`. Errors only when the process cannot be started (fork/pipe).
Expected<ExecResult> execIn(const net::Netns& ns, const std::vector<std::string>& argv,
                            int timeoutSec = 30);
/// The same in the calling thread's own network namespace.
Expected<ExecResult> execHere(const std::vector<std::string>& argv, int timeoutSec = 30);

class Fixture {
  public:
    /// Creates the topology: namespaces, bridges, veths, addresses, forwarding, routes, NAT,
    /// containers. Names are checked free (record and netns files) before anything is created;
    /// on any failure everything already created is removed and the error names the step.
    static Expected<Fixture> up(const Topology& topology, const Options& options = {});

    Fixture(Fixture&&) noexcept;
    Fixture& operator=(Fixture&&) noexcept;
    Fixture(const Fixture&) = delete;
    Fixture& operator=(const Fixture&) = delete;
    /// Tears down (see down()); errors are printed to stderr.
    ~Fixture();

    /// Removes everything (containers detached first, then every namespace, then the record).
    /// Runs all steps even if one fails. Idempotent; afterwards the object is empty.
    Status down();
    /// Forgets the fixture without tearing it down (the CLI's `up`); `tether fixture down`
    /// removes it later.
    void release();

    [[nodiscard]] const std::string& name() const;
    [[nodiscard]] const Topology& topology() const;
    /// The pinned netns path of a host, switch or container (code 3 naming an unknown one).
    [[nodiscard]] Expected<std::string> netnsPath(std::string_view node) const;
    /// The open namespace of a host, switch or container.
    [[nodiscard]] Expected<const net::Netns*> netns(std::string_view node) const;

    /// Runs a command inside `node`.
    Expected<ExecResult> run(std::string_view node, const std::vector<std::string>& argv,
                             int timeoutSec = 30) const;

    /// Runs fn() on the calling thread inside `node` and returns its result wrapped in Expected
    /// (the error is "unknown host" or the setns failure). The thread's namespace is restored.
    template <class F> auto runIn(std::string_view node, F&& fn) const {
        using R = std::invoke_result_t<F>;
        using Out = Expected<R>;
        auto ns = netns(node);
        if (!ns) return Out(std::unexpected(ns.error()));
        net::NetnsGuard guard(**ns);
        if (!guard.ok()) return Out(std::unexpected(guard.error()));
        if constexpr (std::is_void_v<R>) {
            std::forward<F>(fn)();
            return Out();
        } else {
            return Out(std::forward<F>(fn)());
        }
    }

    /// The first address of `family` on interface `ifname` in `node`, read from the kernel
    /// (IPv6 link-local addresses are skipped). Code 3 when the node, interface or address is
    /// missing.
    [[nodiscard]] Expected<net::IpAddress> address(std::string_view node, std::string_view ifname,
                                                   net::Family family = net::Family::V4) const;

    /// Internal (fixture_state.hpp): the handles and record of a live fixture.
    struct State;

  private:
    explicit Fixture(std::unique_ptr<State> s);
    std::unique_ptr<State> state_;
};

/// A random fixture name: kNamePrefix + 8 hex digits.
std::string randomFixtureName();

} // namespace tether::fixture
