// The declarative description of a scratch topology: hosts (network namespaces, optionally
// routers with NAT), switches (bridges), links (veth pairs) and CNI-attached containers.
// Parsing validates everything (names, references, CIDRs, overlaps) before anything is created;
// a Topology value is therefore always consistent. The JSON format is documented in
// docs/fixtures.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "libnet/ip.hpp"

namespace tether::fixture {

/// A route in one host: `to` ("default" -> 0.0.0.0/0 or ::/0) via a gateway and/or out of `dev`.
struct RouteSpec {
    net::IpPrefix dst;
    std::optional<net::IpAddress> via;
    std::string dev; ///< empty = the kernel picks the interface from `via`
};

/// Masquerade traffic leaving interface `out` of a router (optionally only from `source`).
struct NatSpec {
    std::string out;
    std::optional<net::IpPrefix> source;
};

/// A network namespace. A router additionally has IPv4/IPv6 forwarding enabled.
struct HostSpec {
    std::string name;
    bool router = false;
    std::vector<RouteSpec> routes;
    std::vector<NatSpec> nat;
};

/// A Linux bridge. It lives in its own network namespace unless `host` names a host, in which
/// case the bridge (and its ports) are created in that host.
struct SwitchSpec {
    std::string name;
    std::string host;   ///< empty = own namespace
    std::string bridge; ///< interface name of the bridge (default: the switch name)
    uint32_t mtu = 0;
    std::vector<net::IpPrefix> addresses; ///< addresses on the bridge itself (only with `host`)
};

/// One end of a link: a host interface or a switch port.
struct EndpointSpec {
    std::string host;       ///< set for a host end
    std::string switchName; ///< set for a switch end
    std::string ifname;     ///< always filled after parsing (defaults assigned)
    std::vector<net::IpPrefix> addresses;
};

/// A veth pair between two ends.
struct LinkSpec {
    EndpointSpec a;
    EndpointSpec b;
    uint32_t mtu = 0; ///< 0 = kernel default
};

/// A container: its own namespace attached by executing a CNI network list, with the plugins
/// running inside `host` (so the bridge/NAT the plugins make live there).
struct ContainerSpec {
    std::string name;
    std::string host;
    nlohmann::json conflist; ///< the network list (object with "name" and "plugins")
    std::string cniPath;     ///< plugin search path; empty = rt::NetPaths::fromEnv().cniPath
};

/// One node of an overlay: a host, its underlay interface (whose first IPv4 address is the VTEP
/// address) and the node's pod subnet.
struct OverlayNodeSpec {
    std::string host;
    std::string dev = "eth0";
    net::IpPrefix subnet;    ///< masked, inside the overlay's clusterCidr
    net::IpAddress underlay; ///< filled by parsing: the first IPv4 address of `dev`
};

/// A flannel-style VXLAN overlay (docs/fixtures.md, "Overlays"): on every node a VXLAN device
/// without learning, the subnet's network address /32 on it, and for every other node a static
/// neighbour entry, FDB entry and onlink route for that node's subnet; optionally flannel's
/// masquerade of pod traffic leaving the cluster CIDR.
struct OverlaySpec {
    std::string name;
    std::string device; ///< default "flannel.<vni>"
    uint32_t vni = 1;
    uint16_t port = 8472;
    uint32_t mtu = 1450;
    net::IpPrefix clusterCidr;
    bool masquerade = true;
    std::vector<OverlayNodeSpec> nodes;
};

struct Topology {
    std::vector<HostSpec> hosts;
    std::vector<SwitchSpec> switches;
    std::vector<LinkSpec> links;
    std::vector<ContainerSpec> containers;
    std::vector<OverlaySpec> overlays;

    /// Parses and validates `doc`. Relative conflist paths are resolved against `baseDir`.
    /// Errors (code 7 InvalidConfig, 6 for wrong JSON types) name the element, e.g.
    /// `links[1].b: unknown host "h9"` or `hosts[2]: duplicate name "r1"`.
    static Expected<Topology> parse(const nlohmann::json& doc, const std::string& baseDir = ".");
    /// Parses JSON text (code 6 when it is not JSON).
    static Expected<Topology> parseText(std::string_view text, const std::string& baseDir = ".");
    /// Reads and parses a file (code 5 when unreadable); conflists resolve relative to it.
    static Expected<Topology> load(const std::string& path);

    [[nodiscard]] const HostSpec* findHost(std::string_view name) const;
    [[nodiscard]] const SwitchSpec* findSwitch(std::string_view name) const;
    /// Names of every namespace the topology creates: hosts, own-namespace switches, containers.
    [[nodiscard]] std::vector<std::string> namespaceNames() const;
};

/// Validates a host/switch/container/fixture name: ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$, at most 32
/// characters. Code 7 naming `what`.
Status validateName(std::string_view name, std::string_view what);

} // namespace tether::fixture
