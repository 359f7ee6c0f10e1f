#include "cni/config.hpp"

#include "cni/args.hpp"
#include "cni/json_fields.hpp"
#include "cni/json_limits.hpp"

namespace tether::cni {

using nlohmann::json;

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

Expected<json> objectOrEmpty(const json& conf, std::string_view key) {
    const json* v = TRY(fields::optObject(conf, key, ""));
    return v ? *v : json::object();
}

} // namespace

const json* findKey(const json& obj, std::string_view key) {
    if (!obj.is_object()) return nullptr;
    if (auto it = obj.find(key); it != obj.end()) return &*it;
    for (auto it = obj.begin(); it != obj.end(); ++it)
        if (equalsIgnoreCase(it.key(), key)) return &it.value();
    return nullptr;
}

Expected<json> parseConfigJson(std::string_view stdinData) {
    TRY(checkJsonText(stdinData, "decode network config"));
    json j;
    try {
        j = json::parse(stdinData);
    } catch (const json::exception& e) {
        return fail(Code::DecodeFailure, std::string("decode network config: ") + e.what());
    }
    if (!j.is_object())
        return fail(Code::DecodeFailure, "decode network config: expected a JSON object, got " +
                                             std::string(j.type_name()));
    return j;
}

Expected<std::string> configVersion(const json& conf) {
    auto v = TRY(fields::optString(conf, "cniVersion", ""));
    if (!v || v->empty()) return std::string("0.1.0");
    return *v;
}

Expected<NetConf> parseNetConfObject(json conf) {
    NetConf nc;
    nc.cniVersion = TRY(configVersion(conf));
    nc.name = TRY(fields::optString(conf, "name", "")).value_or("");
    if (!nc.name.empty()) TRY(validateNetworkName(nc.name));
    nc.type = TRY(fields::optString(conf, "type", "")).value_or("");
    if (!nc.type.empty()) TRY(validatePluginType(nc.type));
    if (const json* ipam = TRY(fields::optObject(conf, "ipam", ""))) {
        nc.ipamType = TRY(fields::optString(*ipam, "type", "ipam")).value_or("");
        if (!nc.ipamType.empty()) {
            auto ok = validatePluginType(nc.ipamType);
            if (!ok) return std::unexpected(std::move(ok).error().wrap("ipam.type"));
        }
    }
    if (const json* dns = fields::get(conf, "dns")) nc.dns = TRY(parseDns(*dns));
    if (const json* prev = fields::get(conf, "prevResult")) {
        if (!prev->is_object()) return fields::typeError("prevResult", "an object");
        nc.prevResult = TRY(parseResult(*prev, nc.cniVersion, "prevResult"));
    }
    nc.runtimeConfig = TRY(objectOrEmpty(conf, "runtimeConfig"));
    nc.args = TRY(objectOrEmpty(conf, "args"));
    nc.raw = std::move(conf);
    return nc;
}

Expected<NetConf> parseNetConf(std::string_view stdinData) {
    return parseNetConfObject(TRY(parseConfigJson(stdinData)));
}

} // namespace tether::cni
