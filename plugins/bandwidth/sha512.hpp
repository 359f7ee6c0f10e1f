// SHA-512 (FIPS 180-4), for the reference-compatible IFB device name. A copy of
// libcni/sha512: plugins do not depend on the runtime side of CNI.
#pragma once

#include <string>
#include <string_view>

namespace tether::bandwidth {

/// Lowercase hex digest of `data`.
std::string sha512Hex(std::string_view data);

} // namespace tether::bandwidth
