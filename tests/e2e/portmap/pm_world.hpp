// The portmap key tests' world: a netns fixture (pm_hosts.json) whose "host" the calling thread
// enters for the object's lifetime (plugins, iptables-save and nft run there) and a "remote" peer
// on 192.0.2.0/24 and 2001:db8:2::/64; and a dual-stack network — bridge (gateway, ipMasq) with
// host-local, then portmap with the keys under test — run through the runtime as `tether net add`.
#pragma once

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "libcni/net_ops.hpp"
#include "libnet/netns.hpp"
#include "netns-fixtures/scoped_fixture.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

namespace tether::test {

inline constexpr const char* kHost4 = "192.0.2.1";   ///< host, first IPv4
inline constexpr const char* kHost4b = "192.0.2.3";  ///< host, second IPv4
inline constexpr const char* kRemote4 = "192.0.2.2"; ///< the remote peer
inline constexpr const char* kHost6 = "2001:db8:2::1";
inline constexpr const char* kHost6b = "2001:db8:2::3";
inline constexpr const char* kRemote6 = "2001:db8:2::2";

class PmHosts : public fixture::ScopedFixture {
  public:
    /// Brings the topology up (Catch2 FAIL on error) and enters "host".
    PmHosts();
    [[nodiscard]] const net::Netns& remote() const; ///< the remote peer's namespace
    [[nodiscard]] const net::Netns& host() const;   ///< the namespace the calling thread is in

  private:
    net::NetnsGuard inHost_;
};

/// Network `name` on bridge `bridge`: IPv4 subnet `subnet4` and, unless empty, IPv6 `subnet6`;
/// `portmap` holds the portmap plugin's keys (type and capability are added); `bridgeKeys` are
/// merged into the bridge plugin's config.
struct PmNet {
    TempDir conf, cache, data;
    rt::NetPaths paths;
    rt::NetworkList list;
    std::string name;

    PmNet(std::string netName, const std::string& bridge, const std::string& subnet4,
          const std::string& subnet6, nlohmann::json portmap,
          const nlohmann::json& bridgeKeys = nlohmann::json::object())
        : name(std::move(netName)) {
        paths = {.configDir = conf.path(), .cniPath = binDir(), .cacheDir = cache.path()};
        nlohmann::json ranges =
            nlohmann::json::array({nlohmann::json::array({{{"subnet", subnet4}}})});
        if (!subnet6.empty()) ranges.push_back(nlohmann::json::array({{{"subnet", subnet6}}}));
        nlohmann::json br = {
            {"type", "bridge"},
            {"bridge", bridge},
            {"isDefaultGateway", true},
            {"ipMasq", true},
            {"ipam",
             {{"type", "host-local"}, {"ranges", ranges}, {"dataDir", data.path().string()}}}};
        br.update(bridgeKeys);
        portmap["type"] = "portmap";
        portmap["capabilities"] = {{"portMappings", true}};
        nlohmann::json l = {{"cniVersion", "1.1.0"},
                            {"name", name},
                            {"plugins", nlohmann::json::array({br, portmap})}};
        std::ofstream(conf / "n.conflist") << l.dump();
        list = *rt::resolveNetwork(paths, name);
    }
};

/// Container `id` in `ns` as eth0 with these port mappings.
inline rt::RuntimeConf pmAttachment(const std::string& id, const ScratchNetns& ns,
                                    nlohmann::json mappings) {
    return {.containerId = id,
            .netns = ns.path(),
            .ifname = "eth0",
            .capabilityArgs = {{"portMappings", std::move(mappings)}}};
}

/// `iptables-save -t nat` / `ip6tables-save -t nat` / `nft list ruleset` of the calling thread's
/// namespace.
std::string iptNat4();
std::string iptNat6();
std::string nftRuleset();

} // namespace tether::test
