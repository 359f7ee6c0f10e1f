// Typed reads of the launcher's own JSON records (state.json, its "config" and "cgroup"): each
// value checked for its type before use, errors naming the key by its path
// (`key "config.limits.pids": expected an integer, got string`). Internal to runtime/launcher.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace tether::rt {

/// Reads the fields of one JSON object. Absent and null keys leave the target untouched (the
/// caller's default); a value of another type is Code::DecodeFailure naming the key's path.
class JsonObjectReader {
  public:
    /// Reads `obj`, whose keys are named "<path>.<key>" in errors (`path` empty at the top).
    /// `obj` must outlive the reader.
    JsonObjectReader(const nlohmann::json& obj, std::string path);

    /// True when `key` is present and not null.
    [[nodiscard]] bool has(std::string_view key) const;
    /// The dotted path of `key` ("config.limits.pids").
    [[nodiscard]] std::string where(std::string_view key) const;
    /// Code::DecodeFailure `key "<path>": <what>`.
    [[nodiscard]] Error error(std::string_view key, const std::string& what) const;

    Status read(std::string_view key, std::string& out) const;
    Status read(std::string_view key, bool& out) const;
    Status read(std::string_view key, double& out) const;
    Status read(std::string_view key, std::vector<std::string>& out) const;
    Status read(std::string_view key, std::vector<int>& out) const;
    /// An integer that fits `T` (range-checked; no floats, no booleans).
    template <std::integral T>
    requires(!std::same_as<T, bool>) Status read(std::string_view key, T& out)
    const {
        if (!has(key)) return {};
        auto v = TRY(integer(key, static_cast<long double>(std::numeric_limits<T>::min()),
                             static_cast<long double>(std::numeric_limits<T>::max())));
        out = static_cast<T>(v);
        return {};
    }
    /// Sets `out` only when `key` is present (absent stays nullopt).
    template <class T> Status read(std::string_view key, std::optional<T>& out) const {
        if (!has(key)) return {};
        T v{};
        TRY(read(key, v));
        out = std::move(v);
        return {};
    }
    /// The object / array at `key`, kept as JSON (absent: unchanged).
    Status readObject(std::string_view key, nlohmann::json& out) const;
    Status readArray(std::string_view key, nlohmann::json& out) const;
    /// A reader of the object at `key` (absent or null: of an empty object).
    [[nodiscard]] Expected<JsonObjectReader> object(std::string_view key) const;
    /// Readers of the elements of the array at `key`, each of which must be an object (absent:
    /// none). Element i is named "<path>.<key>[i]".
    [[nodiscard]] Expected<std::vector<JsonObjectReader>> objects(std::string_view key) const;

  private:
    /// The integer at `key` in [lo, hi] (as int64 when negative, else uint64).
    [[nodiscard]] Expected<long double> integer(std::string_view key, long double lo,
                                                long double hi) const;
    [[nodiscard]] const nlohmann::json& at(std::string_view key) const;
    [[nodiscard]] Error typeError(std::string_view key, const char* expected) const;

    const nlohmann::json* obj_;
    std::string path_;
};

/// Checks the -p mappings at `key` (as parsePortSpec makes them: objects whose hostIP and
/// protocol are strings, hostPort and containerPort integers), so that later readers of the
/// JSON (ps, assignHostPorts) meet no other types.
Status checkPortMappings(const JsonObjectReader& r, std::string_view key);

} // namespace tether::rt
