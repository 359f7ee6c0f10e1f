#include "cni/conf_fields.hpp"

#include <string>

#include "cni/json_fields.hpp"

namespace tether::cni::fields {

Expected<bool> boolField(const nlohmann::json& obj, std::string_view key, bool def) {
    const nlohmann::json* v = get(obj, key);
    if (!v) return def;
    if (!v->is_boolean()) return typeError(key, "a boolean");
    return v->get<bool>();
}

Expected<int64_t> intField(const nlohmann::json& obj, std::string_view key, int64_t def, int64_t lo,
                           int64_t hi) {
    auto v = TRY(optInt(obj, key, ""));
    if (!v) return def;
    if (*v < lo || *v > hi)
        return fail(Code::InvalidConfig, "invalid " + std::string(key) + " " + std::to_string(*v) +
                                             ": must be between " + std::to_string(lo) + " and " +
                                             std::to_string(hi));
    return *v;
}

} // namespace tether::cni::fields
