// The portmap key tests' world: a netns fixture (pm_hosts.json) whose "host" the calling thread
// enters for the object's lifetime (test::HostWorld: plugins, iptables-save and nft run there)
// and a "remote" peer on 192.0.2.0/24 and 2001:db8:2::/64; and a dual-stack network — bridge
// (gateway, ipMasq) with host-local, then portmap with the keys under test — run through the
// runtime as `tether net add` (test::ConflistNet).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/conflist_net.hpp"
#include "tests/support/host_world.hpp"

namespace tether::test {

inline constexpr const char* kHost4 = "192.0.2.1";   ///< host, first IPv4
inline constexpr const char* kHost4b = "192.0.2.3";  ///< host, second IPv4
inline constexpr const char* kRemote4 = "192.0.2.2"; ///< the remote peer
inline constexpr const char* kHost6 = "2001:db8:2::1";
inline constexpr const char* kHost6b = "2001:db8:2::3";
inline constexpr const char* kRemote6 = "2001:db8:2::2";

class PmHosts : public HostWorld {
  public:
    /// Brings the topology up (Catch2 FAIL on error) and enters "host".
    PmHosts() : HostWorld("tests/e2e/portmap/pm_hosts.json") {}
};

/// Network `name` on bridge `bridge`: IPv4 subnet `subnet4` and, unless empty, IPv6 `subnet6`;
/// `portmap` holds the portmap plugin's keys (type and capability are added); `bridgeKeys` are
/// merged into the bridge plugin's config.
struct PmNet : ConflistNet {
    PmNet(std::string netName, const std::string& bridge, const std::string& subnet4,
          const std::string& subnet6, nlohmann::json portmap,
          const nlohmann::json& bridgeKeys = nlohmann::json::object())
        : ConflistNet(std::move(netName)) {
        std::vector<nlohmann::json> ranges{nlohmann::json{{"subnet", subnet4}}};
        if (!subnet6.empty()) ranges.push_back(nlohmann::json{{"subnet", subnet6}});
        nlohmann::json br = masqBridge(bridge, nlohmann::json{{"ranges", rangeSets(ranges)}});
        br.update(bridgeKeys);
        portmap["type"] = "portmap";
        portmap["capabilities"] = {{"portMappings", true}};
        write(nlohmann::json::array({br, portmap}));
    }
};

} // namespace tether::test
