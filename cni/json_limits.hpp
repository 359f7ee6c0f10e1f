// Bounds on JSON that crosses a trust boundary (plugin stdin, plugin stdout read by the runtime,
// conflists, cache files). nlohmann's parser and the recursive copies and dumps that follow it use
// the native stack: a 300 KB document of nested arrays would crash the process. Every such text
// goes through checkJsonText before it is parsed.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace tether::cni {

/// Deepest nesting of arrays/objects accepted (real configs nest fewer than 10 levels).
constexpr int kMaxJsonDepth = 512;

/// Rejects, with code `code` and a message starting with `what`, a text that: begins with a UTF-8
/// byte order mark, contains a raw NUL byte, nests arrays/objects deeper than kMaxJsonDepth
/// ("exceeded max depth"), or has a string holding an escaped NUL (\u0000) — a NUL would silently
/// cut a path or name at the first C call. Does not otherwise validate the JSON; one linear pass.
Status checkJsonText(std::string_view text, std::string_view what, Code code = Code::DecodeFailure);

/// checkJsonText, then parse. Errors (code `code`): "<what>: <reason>".
Expected<nlohmann::json> parseJsonChecked(std::string_view text, std::string_view what,
                                          Code code = Code::DecodeFailure);

} // namespace tether::cni
