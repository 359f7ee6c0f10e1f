// The tuning state file: what ADD changed and the values to restore on DEL, in the reference's
// format ({"mac","promisc","mtu","allmulti","txQLen"}) plus our keys ("sysctl" originals and the
// owner), so a file written by either plugin can be restored by ours.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace tether::tuning {

struct Saved {
    std::string network, containerId, ifname; ///< the owner (absent in reference files)
    std::string mac;                          ///< original mac, empty = not changed
    std::optional<bool> promisc;
    uint32_t mtu = 0; ///< 0 = not changed
    std::optional<bool> allmulti;
    std::optional<uint32_t> txQLen;
    std::vector<std::pair<std::string, std::string>> sysctls; ///< path below /proc/sys, original
};

/// Writes `s` to `path` atomically (temp file 0600 + rename). The directory is created 0700
/// when missing. Code 5 on I/O errors, naming the file.
Status writeSaved(const std::string& path, const Saved& s);
/// Reads a state file: nullopt when it does not exist, code 6 when it is not valid JSON.
Expected<std::optional<Saved>> readSaved(const std::string& path);
/// Removes a state file; false when it did not exist.
Expected<bool> removeSaved(const std::string& path);

} // namespace tether::tuning
