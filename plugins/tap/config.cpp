#include <cctype>
#include <cstdio>

#include "cni/conf_fields.hpp"
#include "cni/json_fields.hpp"
#include "libnet/link.hpp"
#include "plugins/iface/single_link.hpp"
#include "plugins/tap/tap.hpp"

namespace tether::tap {

namespace {

constexpr int64_t kMaxId = int64_t(UINT32_MAX) - 1; // (uid_t)-1 means "unset" to the kernel

// The value of `key` matched case-insensitively (Go's encoding/json does, so the reference
// takes "selinuxcontext" for "selinuxContext").
const nlohmann::json* anyCase(const nlohmann::json& obj, std::string_view key) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const std::string& k = it.key();
        if (k.size() != key.size()) continue;
        bool same = true;
        for (size_t i = 0; i < k.size() && same; ++i)
            same = std::tolower((unsigned char)k[i]) == std::tolower((unsigned char)key[i]);
        if (same) return &*it;
    }
    return nullptr;
}

Expected<std::optional<uint32_t>> idField(const nlohmann::json& raw, std::string_view key) {
    if (!raw.contains(key) || raw[std::string(key)].is_null()) return std::nullopt;
    return uint32_t(TRY(cni::fields::intField(raw, key, 0, 0, kMaxId)));
}

} // namespace

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const nlohmann::json& raw = args.conf.raw;
    Config c;
    c.multiQueue = TRY(cni::fields::boolField(raw, "multiQueue"));
    c.mtu = TRY(cni::fields::intField(raw, "mtu", 0, INT32_MIN, INT32_MAX));
    if (c.mtu != 0 && (c.mtu < 68 || c.mtu > 65535))
        return fail(Code::InvalidConfig,
                    "invalid mtu " + std::to_string(c.mtu) + ": must be 0 or between 68 and 65535");
    c.owner = TRY(idField(raw, "owner"));
    c.group = TRY(idField(raw, "group"));
    if (auto b = TRY(cni::fields::optString(raw, "bridge", ""))) c.bridge = *b;
    TRY(plugin::checkIfNameKey("bridge", c.bridge));
    if (const auto* s = anyCase(raw, "selinuxContext"); s && !s->is_null()) {
        if (!s->is_string()) return fail(Code::DecodeFailure, "selinuxContext must be a string");
        c.selinuxContext = s->get<std::string>();
    }
    c.mac = TRY(plugin::readContainerMac(args, "mac"));
    return c;
}

cni::PluginFuncs pluginFuncs() {
    return plugin::singleLinkFuncs(cmdAdd, cmdDel, cmdCheck);
}

} // namespace tether::tap
