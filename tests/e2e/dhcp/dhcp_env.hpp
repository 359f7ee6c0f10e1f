// A DHCP test bed in the test's own (unshared) netns: a bridge holding 10.40.0.1/24, busybox
// udhcpd serving 10.40.0.100-150 on it (10 s leases, router, DNS, domain), a dhcp daemon (ours
// or the reference's) on a socket in a temp dir, and a CNI_PATH with bridge + dhcp. Every
// process it starts is ended by its PID when the object dies, and the bridge is deleted.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace tether::test {

/// One background process, SIGTERM + waitpid on destruction; output appended to `log`.
class Background {
  public:
    Background(const std::vector<std::string>& argv, const std::string& log);
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    [[nodiscard]] pid_t pid() const { return pid_; }
    /// Sends SIGTERM and waits; returns the exit status (as execHere reports it).
    int stop();

  private:
    pid_t pid_ = -1;
};

/// One row of udhcpd's lease table (dumpleases -r -d).
struct ServerLease {
    std::string ip;
    std::string hostname;
    long remainingSec = -1; ///< -1 = "expired"
};

class DhcpEnv {
  public:
    /// `reference` selects /usr/lib/cni/{bridge,dhcp} instead of ours (plugin and daemon).
    DhcpEnv(const std::string& bridge, bool reference = false, bool startDaemon = true);
    ~DhcpEnv();

    [[nodiscard]] std::string socketPath() const { return dir_ / "dhcp.sock"; }
    [[nodiscard]] std::string cniPath() const { return dir_ / "bin"; }
    [[nodiscard]] std::string bridgePlugin() const { return dir_ / "bin/bridge"; }
    [[nodiscard]] std::string dhcpPlugin() const { return dir_ / "bin/dhcp"; }
    /// What the daemon printed so far.
    [[nodiscard]] std::string daemonLog() const;
    /// Ends udhcpd (the DHCP server goes away; leases can no longer be renewed).
    void stopServer() { server_->stop(); }
    /// The server's lease table keyed by MAC: udhcpd writes it on SIGUSR1.
    std::map<std::string, ServerLease> serverLeases();

  private:
    TempDir dir_;
    std::string bridge_;
    std::unique_ptr<Background> server_;
    std::unique_ptr<Background> daemon_;
};

} // namespace tether::test
