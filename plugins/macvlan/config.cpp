#include "cni/args.hpp"
#include "cni/conf_fields.hpp"
#include "cni/invoke.hpp"
#include "cni/json_fields.hpp"
#include "libnet/link.hpp"
#include "plugins/macvlan/macvlan.hpp"

namespace tether::macvlan {

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const nlohmann::json& raw = args.conf.raw;
    Config c;
    if (auto m = TRY(cni::fields::optString(raw, "master", ""))) c.master = *m;
    if (!c.master.empty())
        if (auto st = net::validateIfName(c.master); !st)
            return fail(Code::InvalidConfig, "invalid master \"" + c.master + "\"", st.error().msg);
    if (auto m = TRY(cni::fields::optString(raw, "mode", ""))) c.modeText = *m;
    auto mode = net::parseMacvlanMode(c.modeText);
    if (!mode)
        return fail(Code::InvalidConfig,
                    "unknown macvlan mode \"" + c.modeText +
                        "\": must be bridge, private, vepa, passthru or source");
    c.mode = *mode;
    c.mtu = TRY(cni::fields::intField(raw, "mtu", 0, INT32_MIN, INT32_MAX));
    if (c.mtu < 0)
        return fail(Code::InvalidConfig,
                    "invalid MTU " + std::to_string(c.mtu) + ", must be [0, master MTU]");
    if (c.mtu != 0 && c.mtu < 68)
        return fail(Code::InvalidConfig,
                    "invalid MTU " + std::to_string(c.mtu) + ": the minimum is 68");
    c.linkInContainer = TRY(cni::fields::boolField(raw, "linkInContainer"));
    if (raw.contains("bcqueuelen") && !raw["bcqueuelen"].is_null())
        c.bcQueueLen = uint32_t(TRY(cni::fields::intField(raw, "bcqueuelen", 0, 0, UINT32_MAX)));
    if (auto m = TRY(cni::fields::optString(raw, "mac", ""))) c.mac = *m;
    auto pairs = TRY(cni::parseCniArgs(args.args, {"MAC"}));
    if (auto* m = cni::findArg(pairs, "MAC"); m && !m->empty()) c.mac = *m;
    if (auto m = TRY(cni::fields::optString(args.conf.runtimeConfig, "mac", "runtimeConfig"));
        m && !m->empty())
        c.mac = *m;
    if (!c.mac.empty() && !net::parseMac(c.mac))
        return fail(Code::InvalidConfig, "invalid MAC address \"" + c.mac + "\"");
    return c;
}

cni::PluginFuncs pluginFuncs() {
    return {.add = cmdAdd,
            .del = cmdDel,
            .check = cmdCheck,
            .status = [](const cni::CmdArgs& a) -> Status {
                return a.conf.ipamType.empty() ? Status{}
                                               : cni::delegateStatus(a.conf.ipamType, a.stdinData);
            },
            .gc = [](const cni::CmdArgs& a) -> Status {
                return a.conf.ipamType.empty() ? Status{}
                                               : cni::delegateGc(a.conf.ipamType, a.stdinData);
            }};
}

} // namespace tether::macvlan
