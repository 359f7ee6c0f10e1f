#include "cni/conf_fields.hpp"
#include "cni/invoke.hpp"
#include "cni/json_fields.hpp"
#include "nat/backend.hpp"
#include "plugins/veth/veth_plugin.hpp"

namespace tether::veth {

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const nlohmann::json& raw = args.conf.raw;
    Config c;
    if (args.conf.ipamType.empty())
        return fail(Code::InvalidConfig,
                    "ipam must be specified (the veth plugin needs addresses)");
    c.nat.ipMasq = TRY(cni::fields::boolField(raw, "ipMasq"));
    if (auto b = TRY(cni::fields::optString(raw, "ipMasqBackend", ""))) c.nat.backend = *b;
    TRY(nat::parseBackend(c.nat.backend, "ipMasqBackend"));
    if (c.nat.ipMasq && !plugin::natAvailable())
        return fail(Code::UnsupportedField, "unsupported field ipMasq: true (built without NAT)");
    c.mtu = uint32_t(TRY(cni::fields::intField(raw, "mtu", 0, 0, 65535)));
    if (c.mtu != 0 && c.mtu < 68)
        return fail(Code::InvalidConfig,
                    "invalid mtu " + std::to_string(c.mtu) +
                        ": must be 0 (kernel default) or between 68 and 65535");
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
                if (!a.conf.ipamType.empty()) TRY(cni::delegateGc(a.conf.ipamType, a.stdinData));
                return plugin::gcNat(a);
            }};
}

} // namespace tether::veth
