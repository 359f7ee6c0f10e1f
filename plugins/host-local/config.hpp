// The host-local plugin's configuration: the `ipam` section plus the requested addresses from
// CNI_ARGS, `args.cni.ips` and `runtimeConfig.ips`, with the reference's defaults and checks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "cni/result.hpp"
#include "ipam/range.hpp"
#include "libnet/ip.hpp"

namespace tether::hostlocal {

constexpr std::string_view kDefaultDataDir = "/var/lib/cni/networks";

struct Config {
    std::string name;                      ///< network name (names the store directory)
    std::string cniVersion;                ///< of the request, for output and checks
    std::vector<ipam::RangeSet> rangeSets; ///< runtimeConfig.ipRanges, legacy range, ranges
    std::vector<cni::Route> routes;        ///< returned verbatim
    std::string dataDir = std::string(kDefaultDataDir);
    std::string resolvConf;                ///< empty = no dns in the result
    std::vector<net::IpAddress> requested; ///< CNI_ARGS IP, args.cni.ips, runtimeConfig.ips
};

/// Parses and validates `raw` (the whole plugin config) and the CNI_ARGS string `cniArgs`.
/// Errors name the field: code 6 for wrong JSON types ("ipam.ranges[0][0].subnet must be a
/// string"), code 7 for invalid values ("invalid range set 0: ipam.ranges[0][0].subnet: network
/// 10.0.0.0/31 too small to allocate from", "range set 0 overlaps with 1", "IPAM config missing
/// 'ipam' key", "no IP ranges specified"), code 4 for CNI_ARGS.
Expected<Config> parseConfig(const nlohmann::json& raw, std::string_view cniVersion,
                             std::string_view cniArgs);

/// Only what locates the store (name and ipam.dataDir), for DEL: releasing must keep working
/// when ranges or CNI_ARGS would no longer validate. Code 7 when there is no `ipam` object,
/// code 6 for wrong types.
Expected<Config> parseStoreLocation(const nlohmann::json& raw, std::string_view cniVersion);

} // namespace tether::hostlocal
