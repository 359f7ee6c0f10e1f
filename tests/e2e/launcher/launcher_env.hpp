// Test environment for the launcher: a private state dir, rootfs cache, netns dir and cgroup
// parent per test, the built `tether` binary, and checks that nothing is left behind.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test {

class LauncherEnv {
  public:
    /// SKIPs (Catch2 WARN + returns with ok()==false) when not root or cgroups are unusable.
    LauncherEnv();
    /// Force-removes every container still known, runs gc, removes the cgroup parent.
    ~LauncherEnv();
    LauncherEnv(const LauncherEnv&) = delete;
    LauncherEnv& operator=(const LauncherEnv&) = delete;

    /// `tether ARGS...` with this environment (plus `extraEnv` KEY=VALUE entries).
    ExecResult tether(const std::vector<std::string>& args, int timeoutSec = 60,
                      const std::vector<std::string>& extraEnv = {}) const;
    /// The argv (`env VAR=... build/bin/tether ARGS...`) that tether() runs.
    [[nodiscard]] std::vector<std::string>
    argv(const std::vector<std::string>& args, const std::vector<std::string>& extraEnv = {}) const;
    /// `tether run --net none ARGS...`.
    ExecResult runNone(const std::vector<std::string>& args, int timeoutSec = 60) const;

    /// What would be left behind: state dirs, cgroup dirs under our parent, netns pins, mounts
    /// mentioning our dirs. Empty when clean.
    [[nodiscard]] std::vector<std::string> leftovers() const;

    [[nodiscard]] std::string stateDir() const { return dir_ / "state"; }
    [[nodiscard]] std::string libDir() const { return dir_ / "lib"; }
    [[nodiscard]] std::string netnsDir() const { return dir_ / "netns"; }
    [[nodiscard]] const std::string& cgroupParent() const { return cgroupParent_; }
    [[nodiscard]] std::string scratch(const std::string& name) const { return dir_ / name; }
    /// The static probe program (tests/e2e/launcher/probe.cpp).
    static std::string probe();

  private:
    TempDir dir_;
    std::string cgroupParent_;
};

/// Retries `pred` for up to `ms` milliseconds.
bool eventually(const std::function<bool()>& pred, int ms = 3000);

} // namespace tether::test
