#include "cni/conf_fields.hpp"
#include "cni/json_fields.hpp"
#include "libnet/link.hpp"
#include "plugins/iface/single_link.hpp"
#include "plugins/macvlan/macvlan.hpp"

namespace tether::macvlan {

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const nlohmann::json& raw = args.conf.raw;
    Config c;
    if (auto m = TRY(cni::fields::optString(raw, "master", ""))) c.master = *m;
    TRY(plugin::checkIfNameKey("master", c.master));
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
    c.mac = TRY(plugin::readContainerMac(args, "MAC address"));
    return c;
}

cni::PluginFuncs pluginFuncs() {
    return plugin::singleLinkFuncs(cmdAdd, cmdDel, cmdCheck);
}

} // namespace tether::macvlan
