// Error helpers shared by the fixture parsers (topology.cpp, overlay_parse.cpp). Internal.
#pragma once

#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace tether::fixture::detail {

/// "<where>: <msg>" with code 7 (a value the topology cannot have).
inline std::unexpected<Error> bad(const std::string& where, const std::string& msg) {
    return fail(Code::InvalidConfig, where + ": " + msg);
}

/// "<where>: must be <want>" with code 6 (a JSON value of the wrong type).
inline std::unexpected<Error> badType(const std::string& where, const char* want) {
    return fail(Code::DecodeFailure, where + ": must be " + want);
}

/// Rejects keys other than `allowed` so typos ("adresses") do not pass silently.
inline Status onlyKeys(const nlohmann::json& obj, const std::string& where,
                       std::initializer_list<const char*> allowed) {
    if (!obj.is_object()) return badType(where, "an object");
    for (const auto& [key, _] : obj.items()) {
        bool ok = false;
        for (const char* a : allowed)
            ok = ok || key == a;
        if (!ok) return bad(where, "unknown key \"" + key + "\"");
    }
    return {};
}

} // namespace tether::fixture::detail
