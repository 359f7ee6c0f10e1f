// Digests and encodings that must match what Go's standard library produces, so that names and
// files we share with the reference tools are the same: SHA-512 hex (cnitool's default container
// ID, the bandwidth plugin's IFB device name) and padded standard base64 (libcni's result cache).
// Implemented with nettle.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tether {

/// Lowercase hex SHA-512 digest of `data` (128 characters).
std::string sha512Hex(std::string_view data);

/// Standard-alphabet base64 with `=` padding, as Go encodes a []byte in JSON.
std::string base64Encode(std::string_view data);

/// Decodes standard base64; nullopt when `text` is not valid base64 (bad character, bad padding).
std::optional<std::string> base64Decode(std::string_view text);

} // namespace tether
