#include "plugins/dhcp/config.hpp"

#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "cni/json_fields.hpp"

namespace tether::dhcp {

namespace fields = cni::fields;
using nlohmann::json;

std::string clientIdFor(const std::string& containerId, const std::string& network,
                        const std::string& ifname) {
    std::string id = containerId + "/" + network + "/" + ifname;
    if (id.size() > 254) id.resize(254); // option 61 holds at most 255 bytes, one is the type
    return id;
}

std::optional<uint8_t> optionCode(const std::string& name) {
    static constexpr std::pair<const char*, uint8_t> kNames[] = {
        {"dhcp-client-identifier", 61},
        {"subnet-mask", 1},
        {"routers", 3},
        {"host-name", 12},
        {"user-class", 77},
        {"vendor-class-identifier", 60},
        {"domain-name-servers", 6},
        {"domain-name", 15},
        {"static-routes", 33},
        {"classless-static-route", 121},
    };
    for (const auto& [n, code] : kNames)
        if (name == n) return code;
    if (name.empty() || name.size() > 3 ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    int v = std::stoi(name);
    if (v < 1 || v > 254) return std::nullopt;
    return uint8_t(v);
}

namespace {

// CNI_ARGS as the reference reads them for `fromArg`: ';'-separated K=V, items without '='
// ignored.
std::optional<std::string> cniArg(const std::string& raw, const std::string& key) {
    size_t pos = 0;
    while (pos <= raw.size()) {
        size_t end = raw.find(';', pos);
        if (end == std::string::npos) end = raw.size();
        std::string item = raw.substr(pos, end - pos);
        if (auto eq = item.find('='); eq != std::string::npos && item.substr(0, eq) == key)
            return item.substr(eq + 1);
        pos = end + 1;
    }
    return std::nullopt;
}

Expected<uint8_t> entryOption(const json& entry, const std::string& path) {
    auto name = TRY(fields::optString(entry, "option", path));
    if (!name) return fail(Code::InvalidConfig, path + ".option is required");
    auto code = optionCode(*name);
    if (!code)
        return fail(Code::InvalidConfig, path + ": can not parse option \"" + *name + "\"",
                    "use a name like host-name or a number 1..254");
    return *code;
}

} // namespace

Expected<PluginConfig> parsePluginConfig(const cni::CmdArgs& args) {
    PluginConfig cfg;
    const json* ipam = TRY(fields::optObject(args.conf.raw, "ipam", ""));
    static const json kEmpty = json::object();
    if (!ipam) ipam = &kEmpty;
    if (auto p = TRY(fields::optString(*ipam, "daemonSocketPath", "ipam")); p && !p->empty()) {
        if (p->front() != '/' || p->size() >= sizeof(sockaddr_un{}.sun_path))
            return fail(Code::InvalidConfig,
                        "ipam.daemonSocketPath \"" + *p +
                            "\" must be an absolute path of at most " +
                            std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
        cfg.socketPath = *p;
    }
    if (auto t = TRY(fields::optInt(*ipam, "timeout", "ipam"))) {
        if (*t < 1 || *t > 3600)
            return fail(Code::InvalidConfig,
                        "ipam.timeout " + std::to_string(*t) + " must be 1..3600 seconds");
        cfg.request.timeoutMs = uint32_t(*t * 1000);
    }

    bool skipDefault = false;
    std::vector<uint8_t> requested;
    if (const json* list = TRY(fields::optArray(*ipam, "request", "ipam")))
        for (size_t i = 0; i < list->size(); ++i) {
            const std::string path = "ipam.request[" + std::to_string(i) + "]";
            const json& e = (*list)[i];
            if (!e.is_object()) return fields::typeError(path, "an object");
            if (const json* s = fields::get(e, "skipDefault")) {
                if (!s->is_boolean()) return fields::typeError(path + ".skipDefault", "a boolean");
                skipDefault = skipDefault || s->get<bool>();
            }
            if (!fields::get(e, "option")) continue; // {"skipDefault": true} alone
            requested.push_back(TRY(entryOption(e, path)));
        }
    if (!skipDefault)
        requested.insert(requested.end(), std::begin(kDefaultRequest), std::end(kDefaultRequest));
    for (uint8_t c : requested)
        if (std::find(cfg.request.paramRequest.begin(), cfg.request.paramRequest.end(), c) ==
            cfg.request.paramRequest.end())
            cfg.request.paramRequest.push_back(c);

    cfg.request.clientId = clientIdFor(args.containerId, args.conf.name, args.ifname);
    // Option 61: type 0 (not a hardware address) followed by the ID, as the reference sends it.
    std::vector<uint8_t> cid(cfg.request.clientId.size() + 1, 0);
    std::copy(cfg.request.clientId.begin(), cfg.request.clientId.end(), cid.begin() + 1);
    cfg.request.provide[61] = cid;
    if (const json* list = TRY(fields::optArray(*ipam, "provide", "ipam")))
        for (size_t i = 0; i < list->size(); ++i) {
            const std::string path = "ipam.provide[" + std::to_string(i) + "]";
            const json& e = (*list)[i];
            if (!e.is_object()) return fields::typeError(path, "an object");
            uint8_t code = TRY(entryOption(e, path));
            auto value = TRY(fields::optString(e, "value", path));
            auto fromArg = TRY(fields::optString(e, "fromArg", path));
            std::optional<std::string> v = value && !value->empty() ? value : std::nullopt;
            if (fromArg && !fromArg->empty())
                if (auto a = cniArg(args.args, *fromArg)) v = a;
            if (!v) continue;
            if (v->size() > 255)
                return fail(Code::InvalidConfig,
                            path + ": value too long for option " + std::to_string(code) + " (" +
                                std::to_string(v->size()) + " bytes, at most 255)");
            cfg.request.provide[code] = std::vector<uint8_t>(v->begin(), v->end());
        }

    cfg.request.ifname = args.ifname;
    cfg.request.netns = args.netns;
    if (!args.netns.empty() && args.netns.front() != '/') {
        char cwd[PATH_MAX];
        if (!::getcwd(cwd, sizeof(cwd))) return failErrno("getcwd", errno, Code::Internal);
        cfg.request.netns = std::string(cwd) + "/" + args.netns;
    }
    return cfg;
}

} // namespace tether::dhcp
