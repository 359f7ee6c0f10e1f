#include "cni/json_limits.hpp"

#include <string>

namespace tether::cni {

Status checkJsonText(std::string_view text, std::string_view what, Code code) {
    auto bad = [&](const std::string& reason) {
        return fail(code, std::string(what) + ": " + reason);
    };
    if (text.starts_with("\xEF\xBB\xBF"))
        return bad("invalid character: a UTF-8 byte order mark before the JSON value");
    int depth = 0;
    bool inString = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\0') return bad("invalid character: NUL byte at offset " + std::to_string(i));
        if (inString) {
            if (c == '"') {
                inString = false;
            } else if (c == '\\' && i + 1 < text.size()) {
                ++i;
                if (text[i] == 'u' && text.substr(i + 1, 4) == "0000")
                    return bad("a string holds a NUL character (\\u0000) at offset " +
                               std::to_string(i - 1));
            }
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth)
                return bad("exceeded max depth (" + std::to_string(kMaxJsonDepth) +
                           " nested arrays/objects) at offset " + std::to_string(i));
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return {};
}

Expected<nlohmann::json> parseJsonChecked(std::string_view text, std::string_view what, Code code) {
    TRY(checkJsonText(text, what, code));
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        return fail(code, std::string(what) + ": " + e.what());
    }
}

} // namespace tether::cni
