// Typed reads of optional JSON keys with Go-like decoding rules (case-insensitive key fallback,
// null = absent) and errors that name the field path: code 6 "ips[1].address must be a string".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace tether::cni::fields {

/// "prefix.key", or "key" when prefix is empty.
std::string join(std::string_view prefix, std::string_view key);

/// Code 6 "<path> must be <what>".
std::unexpected<Error> typeError(std::string_view path, std::string_view what);

/// The value at `key` in `obj` (exact, then case-insensitive); nullptr when absent or null.
const nlohmann::json* get(const nlohmann::json& obj, std::string_view key);

/// Optional string / integer / string list / object at `key`; nullopt (empty list) when absent.
/// `prefix` is the path of `obj` used in error messages.
Expected<std::optional<std::string>> optString(const nlohmann::json& obj, std::string_view key,
                                               std::string_view prefix);
Expected<std::optional<int64_t>> optInt(const nlohmann::json& obj, std::string_view key,
                                        std::string_view prefix);
Expected<std::vector<std::string>> optStringList(const nlohmann::json& obj, std::string_view key,
                                                 std::string_view prefix);
Expected<const nlohmann::json*> optObject(const nlohmann::json& obj, std::string_view key,
                                          std::string_view prefix);
Expected<const nlohmann::json*> optArray(const nlohmann::json& obj, std::string_view key,
                                         std::string_view prefix);

} // namespace tether::cni::fields
