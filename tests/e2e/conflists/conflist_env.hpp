// The conflists e2e world: the NAT tests' "host" (where the test thread runs the plugins) and
// "remote" (192.0.2.2, no route to container subnets), tmpfs on /var/lib so the conflists run
// unchanged with their default dataDir and cache dir (/var/lib/cni), and two ways of executing a
// conflist: `tether net` (our libcni equivalent, as a user runs it) and LibcniChain.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/e2e/nat/nat_hosts.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test {

/// The host/remote fixture plus a fresh tmpfs on /var/lib for the object's lifetime.
class ConflistWorld {
  public:
    ConflistWorld();
    ~ConflistWorld();
    ConflistWorld(const ConflistWorld&) = delete;
    ConflistWorld& operator=(const ConflistWorld&) = delete;
    [[nodiscard]] const net::Netns& remote() const { return hosts_.remote(); }

  private:
    NatHosts hosts_;
};

/// tests/e2e/conflists/fixtures/<file>, parsed (Catch2 FAIL when unreadable).
nlohmann::json loadFixture(const std::string& file);

/// Executes one network (written into a private config dir) for containers.
class Driver {
  public:
    virtual ~Driver() = default;
    /// ADD; returns the final result, or null with `error` set.
    virtual nlohmann::json add(const std::string& id, const ScratchNetns& ns,
                               const nlohmann::json& caps, std::string& error,
                               const std::string& ifname = "eth0") = 0;
    /// CHECK against the ADD result; "" on success, else the error.
    virtual std::string check(const std::string& id, const ScratchNetns& ns,
                              const nlohmann::json& caps, const nlohmann::json& result,
                              const std::string& ifname = "eth0") = 0;
    /// DEL (with the ADD result as prevResult where the driver has it); "" on success.
    virtual std::string del(const std::string& id, const ScratchNetns& ns,
                            const nlohmann::json& caps, const nlohmann::json& result,
                            const std::string& ifname = "eth0") = 0;
    [[nodiscard]] virtual std::string name() const = 0;
};

/// `tether net add|check|del` with NETCONFPATH = a dir holding `list` (written as <file>),
/// CNI_PATH = build/bin and the default cache dir.
std::unique_ptr<Driver> cliDriver(const nlohmann::json& list);
/// LibcniChain over build/bin.
std::unique_ptr<Driver> libcniDriver(const nlohmann::json& list);

/// What of an attachment of network `name` on bridge `bridge` is still on the host: ports of
/// the bridge, lease files in /var/lib/cni/networks/<name>, nft/iptables lines naming
/// "<name>/", ifb devices, libcni cache files. Empty: nothing.
std::string leftovers(const std::string& name, const std::string& bridge);

/// The first address of `family` ("4"/"6") in a result's ips, without the prefix ("" if none).
std::string resultAddress(const nlohmann::json& result, const std::string& family = "4");

} // namespace tether::test
