// SHA-512 (FIPS 180-4), for cnitool-compatible default container IDs.
#pragma once

#include <string>
#include <string_view>

namespace tether::rt {

/// Lowercase hex digest of `data`.
std::string sha512Hex(std::string_view data);

} // namespace tether::rt
