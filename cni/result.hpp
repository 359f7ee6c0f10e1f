// The CNI ADD result in one in-memory shape (the 1.x schema), read from and written to any spec
// version: 0.3.x/0.4.0 add ips[].version, 0.1.0/0.2.0 use the ip4/ip6 objects.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace tether::cni {

struct Interface {
    std::string name;
    std::string mac;             ///< empty = omitted
    std::optional<unsigned> mtu; ///< 1.1.0 only
    std::string sandbox;         ///< netns path; empty = host
    std::string socketPath;      ///< 1.1.0 only
    std::string pciID;           ///< 1.1.0 only
};

struct IpConfig {
    std::string address;          ///< CIDR, e.g. "10.1.0.5/16"
    std::string gateway;          ///< empty = omitted
    std::optional<int> interface; ///< index into interfaces; absent != 0
};

struct Route {
    std::string dst;                                        ///< CIDR
    std::string gw;                                         ///< empty = omitted
    std::optional<int> mtu, advmss, priority, table, scope; ///< 1.1.0 only
};

struct Dns {
    std::vector<std::string> nameservers;
    std::string domain;
    std::vector<std::string> search;
    std::vector<std::string> options;
    [[nodiscard]] bool empty() const {
        return nameservers.empty() && domain.empty() && search.empty() && options.empty();
    }
};

struct Result {
    std::string cniVersion; ///< version the result was read in (informational)
    std::vector<Interface> interfaces;
    std::vector<IpConfig> ips;
    std::vector<Route> routes;
    Dns dns;
};

/// Parses a result in any supported version. `fallbackVersion` is used when the JSON has no
/// cniVersion (libcni and the reference plugins do the same). Code 6 on wrong types, code 1 on
/// an unknown version; the message names the offending field.
Expected<Result> parseResult(const nlohmann::json& j, std::string_view fallbackVersion);
/// Same, with `fieldPrefix` prepended to field names in error messages ("prevResult.ips[0]...").
Expected<Result> parseResult(const nlohmann::json& j, std::string_view fallbackVersion,
                             std::string_view fieldPrefix);

/// Serialises `r` in `version`, omitting empty fields the way the reference does. Fields the
/// target version lacks are dropped; 0.1.0/0.2.0 keep the first IPv4 and IPv6 address only.
/// Code 1 when `version` is unknown.
Expected<nlohmann::json> toJson(const Result& r, std::string_view version);

/// Parses `dns` keys (nameservers/domain/search/options); code 6 on wrong types.
Expected<Dns> parseDns(const nlohmann::json& j);
nlohmann::json dnsToJson(const Dns& d);

/// The result's addresses for log lines: "10.1.0.5/16 gw 10.1.0.1, fd00::5/64" ("no addresses").
std::string addressList(const Result& r);

} // namespace tether::cni
