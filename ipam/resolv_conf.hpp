// resolv.conf parsing for the DNS part of an IPAM result (reference host-local's dns.go).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace tether::ipam {

struct DnsSettings {
    std::vector<std::string> nameservers; ///< every "nameserver X" in order
    std::string domain;                   ///< the last "domain X"
    std::vector<std::string> search;      ///< every "search" word, in order
    std::vector<std::string> options;     ///< every "options" word, in order
};

/// Parses resolv.conf text like the reference: lines "nameserver", "domain", "search",
/// "options"; lines starting with '#' or ';' are comments; unknown keywords are ignored.
DnsSettings parseResolvConfText(std::string_view text);

/// Reads and parses the file at `path`; code 5 naming the path when it cannot be read.
Expected<DnsSettings> readResolvConf(const std::string& path);

} // namespace tether::ipam
