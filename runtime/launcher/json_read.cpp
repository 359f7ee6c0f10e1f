#include "runtime/launcher/json_read.hpp"

namespace tether::rt {

namespace {

const nlohmann::json& emptyObject() {
    static const nlohmann::json empty = nlohmann::json::object();
    return empty;
}

} // namespace

JsonObjectReader::JsonObjectReader(const nlohmann::json& obj, std::string path)
    : obj_(&obj), path_(std::move(path)) {}

bool JsonObjectReader::has(std::string_view key) const {
    if (!obj_->is_object()) return false;
    auto it = obj_->find(key);
    return it != obj_->end() && !it->is_null();
}

std::string JsonObjectReader::where(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

Error JsonObjectReader::error(std::string_view key, const std::string& what) const {
    return Error{Code::DecodeFailure, "key \"" + where(key) + "\": " + what, {}, 0};
}

Error JsonObjectReader::typeError(std::string_view key, const char* expected) const {
    return error(key, std::string("expected ") + expected + ", got " + at(key).type_name());
}

const nlohmann::json& JsonObjectReader::at(std::string_view key) const {
    return *obj_->find(key);
}

Status JsonObjectReader::read(std::string_view key, std::string& out) const {
    if (!has(key)) return {};
    const auto& v = at(key);
    if (!v.is_string()) return std::unexpected(typeError(key, "a string"));
    out = v.get<std::string>();
    return {};
}

Status JsonObjectReader::read(std::string_view key, bool& out) const {
    if (!has(key)) return {};
    const auto& v = at(key);
    if (!v.is_boolean()) return std::unexpected(typeError(key, "true or false"));
    out = v.get<bool>();
    return {};
}

Status JsonObjectReader::read(std::string_view key, double& out) const {
    if (!has(key)) return {};
    const auto& v = at(key);
    if (!v.is_number()) return std::unexpected(typeError(key, "a number"));
    out = v.get<double>();
    return {};
}

Status JsonObjectReader::read(std::string_view key, std::vector<std::string>& out) const {
    if (!has(key)) return {};
    const auto& v = at(key);
    if (!v.is_array()) return std::unexpected(typeError(key, "an array of strings"));
    std::vector<std::string> items;
    for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string())
            return std::unexpected(error(key, "element " + std::to_string(i) +
                                                  ": expected a string, got " + v[i].type_name()));
        items.push_back(v[i].get<std::string>());
    }
    out = std::move(items);
    return {};
}

Status JsonObjectReader::read(std::string_view key, std::vector<int>& out) const {
    if (!has(key)) return {};
    const auto& v = at(key);
    if (!v.is_array()) return std::unexpected(typeError(key, "an array of integers"));
    std::vector<int> items;
    for (size_t i = 0; i < v.size(); ++i) {
        bool fits = v[i].is_number_integer() && v[i].get<int64_t>() >= INT32_MIN &&
                    v[i].get<int64_t>() <= INT32_MAX &&
                    !(v[i].is_number_unsigned() && v[i].get<uint64_t>() > INT32_MAX);
        if (!fits)
            return std::unexpected(error(key, "element " + std::to_string(i) +
                                                  ": expected an integer, got " + v[i].dump()));
        items.push_back(v[i].get<int>());
    }
    out = std::move(items);
    return {};
}

Expected<long double> JsonObjectReader::integer(std::string_view key, long double lo,
                                                long double hi) const {
    const auto& v = at(key);
    if (!v.is_number_integer()) return std::unexpected(typeError(key, "an integer"));
    long double n = v.is_number_unsigned() ? static_cast<long double>(v.get<uint64_t>())
                                           : static_cast<long double>(v.get<int64_t>());
    if (n < lo || n > hi) return std::unexpected(error(key, "value " + v.dump() + " out of range"));
    return n;
}

Status JsonObjectReader::readObject(std::string_view key, nlohmann::json& out) const {
    if (!has(key)) return {};
    if (!at(key).is_object()) return std::unexpected(typeError(key, "an object"));
    out = at(key);
    return {};
}

Status JsonObjectReader::readArray(std::string_view key, nlohmann::json& out) const {
    if (!has(key)) return {};
    if (!at(key).is_array()) return std::unexpected(typeError(key, "an array"));
    out = at(key);
    return {};
}

Expected<JsonObjectReader> JsonObjectReader::object(std::string_view key) const {
    if (!has(key)) return JsonObjectReader(emptyObject(), where(key));
    if (!at(key).is_object()) return std::unexpected(typeError(key, "an object"));
    return JsonObjectReader(at(key), where(key));
}

Expected<std::vector<JsonObjectReader>> JsonObjectReader::objects(std::string_view key) const {
    std::vector<JsonObjectReader> out;
    if (!has(key)) return out;
    const auto& v = at(key);
    if (!v.is_array()) return std::unexpected(typeError(key, "an array of objects"));
    for (size_t i = 0; i < v.size(); ++i) {
        std::string name = where(key) + "[" + std::to_string(i) + "]";
        if (!v[i].is_object())
            return std::unexpected(
                Error{Code::DecodeFailure,
                      "key \"" + name + "\": expected an object, got " + v[i].type_name(),
                      {},
                      0});
        out.emplace_back(v[i], name);
    }
    return out;
}

Status checkPortMappings(const JsonObjectReader& r, std::string_view key) {
    for (const auto& m : TRY(r.objects(key))) {
        std::string text;
        int port = 0;
        TRY(m.read("hostIP", text));
        TRY(m.read("protocol", text));
        TRY(m.read("hostPort", port));
        TRY(m.read("containerPort", port));
    }
    return {};
}

} // namespace tether::rt
