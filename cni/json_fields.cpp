#include "cni/json_fields.hpp"

#include <limits>

#include "cni/config.hpp"

namespace tether::cni::fields {

using nlohmann::json;

std::string join(std::string_view prefix, std::string_view key) {
    if (prefix.empty()) return std::string(key);
    std::string s(prefix);
    s += '.';
    s += key;
    return s;
}

std::unexpected<Error> typeError(std::string_view path, std::string_view what) {
    return fail(Code::DecodeFailure, std::string(path) + " must be " + std::string(what));
}

const json* get(const json& obj, std::string_view key) {
    const json* v = findKey(obj, key);
    return (v && !v->is_null()) ? v : nullptr;
}

Expected<std::optional<std::string>> optString(const json& obj, std::string_view key,
                                               std::string_view prefix) {
    const json* v = get(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) return typeError(join(prefix, key), "a string");
    return v->get<std::string>();
}

Expected<std::optional<int64_t>> optInt(const json& obj, std::string_view key,
                                        std::string_view prefix) {
    const json* v = get(obj, key);
    if (!v) return std::nullopt;
    if (v->is_number_unsigned()) {
        auto u = v->get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return typeError(join(prefix, key), "an integer in range");
        return static_cast<int64_t>(u);
    }
    if (!v->is_number_integer()) return typeError(join(prefix, key), "an integer");
    return v->get<int64_t>();
}

Expected<std::vector<std::string>> optStringList(const json& obj, std::string_view key,
                                                 std::string_view prefix) {
    std::vector<std::string> out;
    const json* v = get(obj, key);
    if (!v) return out;
    if (!v->is_array()) return typeError(join(prefix, key), "a list of strings");
    out.reserve(v->size());
    for (size_t i = 0; i < v->size(); ++i) {
        const json& e = (*v)[i];
        if (!e.is_string())
            return typeError(join(prefix, key) + "[" + std::to_string(i) + "]", "a string");
        out.push_back(e.get<std::string>());
    }
    return out;
}

Expected<const json*> optObject(const json& obj, std::string_view key, std::string_view prefix) {
    const json* v = get(obj, key);
    if (v && !v->is_object()) return typeError(join(prefix, key), "an object");
    return v;
}

Expected<const json*> optArray(const json& obj, std::string_view key, std::string_view prefix) {
    const json* v = get(obj, key);
    if (v && !v->is_array()) return typeError(join(prefix, key), "a list");
    return v;
}

} // namespace tether::cni::fields
