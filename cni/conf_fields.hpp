// Typed readers for plugin config keys that json_fields.hpp does not cover (booleans,
// bounded integers), with errors naming the key.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace tether::cni::fields {

/// The boolean at `key` (exact, then case-insensitive), `def` when absent or null.
/// A non-boolean is code 6 "<key> must be a boolean".
Expected<bool> boolField(const nlohmann::json& obj, std::string_view key, bool def = false);

/// The integer at `key` in [lo, hi], `def` when absent. Code 6 for a non-integer, code 7
/// "invalid <key> <value>: must be between lo and hi" when out of range.
Expected<int64_t> intField(const nlohmann::json& obj, std::string_view key, int64_t def, int64_t lo,
                           int64_t hi);

} // namespace tether::cni::fields
