// Config reading that the IPAM plugins (host-local, static) share: the `ipam` section, its
// `routes`, the addresses a runtime hands over in `args.cni.ips` and `runtimeConfig.ips`, CNI_ARGS
// lists, and the one-address-per-family rule of the old CNI versions. Errors name the field.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "cni/result.hpp"

namespace tether::ipam {

/// "prefix[i]": the path of a list element in error messages.
std::string indexedPath(std::string_view prefix, size_t i);

/// Splits a CNI_ARGS value "a, b,c" on commas, trimming blanks (spaces, tabs) around each item.
/// Always at least one item (possibly empty).
std::vector<std::string_view> splitArgList(std::string_view s);

/// The `ipam` object of the whole plugin config `raw`. Code 6 when `raw` is not an object or
/// `ipam` is not one; code 7 "IPAM config missing 'ipam' key" when it is absent.
Expected<const nlohmann::json*> ipamSection(const nlohmann::json& raw);

/// `ipam.routes` (absent = none), returned verbatim (dst keeps its host bits). Code 6 for wrong
/// JSON types naming the field; code 7 for a missing or invalid dst ("ipam.routes[0].dst: invalid
/// CIDR address: 1.2.3.4") or gw ("ipam.routes[0].gw: invalid IP address: x"). An empty gw is no
/// gateway, as the reference reads it.
Expected<std::vector<cni::Route>> parseRoutes(const nlohmann::json& ipam);

/// A list of addresses the runtime handed over, with where it stood ("args.cni",
/// "runtimeConfig") for messages: the caller names elements join(path, "ips")[i].
struct HandedIps {
    std::string path;
    std::vector<std::string> ips;
};

/// args.cni.ips, then runtimeConfig.ips, each when its object exists (a list may be empty).
/// Code 6 for wrong JSON types naming the field.
Expected<std::vector<HandedIps>> handedIps(const nlohmann::json& raw);

/// Code 7 "CNI version X does not support more than 1 address per family" when `v4` or `v6` is
/// above 1 and `cniVersion` is below 0.3.0.
Status checkOnePerFamily(size_t v4, size_t v6, std::string_view cniVersion);

} // namespace tether::ipam
