// The static IPAM plugin's configuration: `ipam.addresses`, `ipam.routes`, `ipam.dns`, and the
// addresses the runtime hands over (CNI_ARGS IP/GATEWAY, args.cni.ips, runtimeConfig.ips), merged
// in the reference's order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "cni/result.hpp"
#include "libnet/ip.hpp"

namespace tether::staticipam {

/// One address to hand out: the address with its prefix (host bits kept) and an optional gateway.
struct StaticAddress {
    net::IpPrefix address;
    std::optional<net::IpAddress> gateway;
};

struct Config {
    std::vector<StaticAddress> addresses; ///< in result order
    std::vector<cni::Route> routes;       ///< returned verbatim
    cni::Dns dns;                         ///< returned verbatim (omitted when empty)
};

/// Parses and validates the whole plugin config `raw` and the CNI_ARGS string `cniArgs`.
/// Sources, later ones replacing earlier ones as the reference does: ipam.addresses plus CNI_ARGS
/// IP (appended; GATEWAY sets the gateway of the CNI_ARGS addresses whose subnet contains it),
/// then args.cni.ips (replaces all), then runtimeConfig.ips (replaces all).
/// Errors: code 7 "IPAM config missing 'ipam' key"; code 7 naming the field for an address
/// without prefix or a bad gateway/route ("ipam.addresses[0].address: invalid CIDR \"10.0.0.1\"");
/// code 7 for more than one address per family below cniVersion 0.3.0; code 6 for wrong JSON
/// types; code 4 for bad CNI_ARGS (unknown keys unless IgnoreUnknown, invalid IP/GATEWAY).
Expected<Config> parseConfig(const nlohmann::json& raw, std::string_view cniVersion,
                             std::string_view cniArgs);

} // namespace tether::staticipam
