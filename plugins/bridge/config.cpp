#include "plugins/bridge/config.hpp"

#include "cni/args.hpp"
#include "cni/conf_fields.hpp"
#include "cni/json_fields.hpp"
#include "libnet/link.hpp"
#include "nat/backend.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::bridge {

using cni::fields::boolField;
using cni::fields::intField;

namespace {

Expected<std::vector<VlanRange>> parseTrunk(const nlohmann::json& raw) {
    std::vector<VlanRange> out;
    const nlohmann::json* arr = TRY(cni::fields::optArray(raw, "vlanTrunk", ""));
    if (!arr) return out;
    for (size_t i = 0; i < arr->size(); ++i) {
        const auto& e = (*arr)[i];
        std::string where = "vlanTrunk[" + std::to_string(i) + "]";
        if (!e.is_object()) return cni::fields::typeError(where, "an object");
        auto id = TRY(cni::fields::optInt(e, "id", where));
        auto lo = TRY(cni::fields::optInt(e, "minID", where));
        auto hi = TRY(cni::fields::optInt(e, "maxID", where));
        VlanRange r;
        if (id) {
            r = {int(*id), int(*id)};
        } else if (lo && hi) {
            r = {int(*lo), int(*hi)};
        } else {
            return fail(Code::InvalidConfig, "invalid " + where + ": needs id or minID and maxID");
        }
        if (r.minId < 1 || r.maxId > 4094 || r.minId > r.maxId)
            return fail(Code::InvalidConfig,
                        "invalid " + where + ": VLAN IDs must be within 1..4094");
        out.push_back(r);
    }
    return out;
}

// The container MAC: CNI_ARGS MAC=, then args.cni.mac, then runtimeConfig.mac (last wins).
Expected<std::string> parseMac(const cni::CmdArgs& args) {
    std::string mac;
    auto pairs = TRY(cni::parseCniArgs(args.args, {"MAC"}));
    if (auto* m = cni::findArg(pairs, "MAC")) mac = *m;
    if (const auto* cniArgs = cni::fields::get(args.conf.args, "cni"))
        if (auto m = TRY(cni::fields::optString(*cniArgs, "mac", "args.cni"))) mac = *m;
    if (auto m = TRY(cni::fields::optString(args.conf.runtimeConfig, "mac", "runtimeConfig")))
        mac = *m;
    if (!mac.empty() && !net::parseMac(mac))
        return fail(Code::InvalidConfig, "invalid MAC address \"" + mac + "\"");
    return mac;
}

} // namespace

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const nlohmann::json& raw = args.conf.raw;
    Config c;
    if (auto b = TRY(cni::fields::optString(raw, "bridge", ""))) c.bridge = *b;
    if (c.bridge.empty()) c.bridge = "cni0";
    if (auto st = net::validateIfName(c.bridge); !st)
        return fail(Code::InvalidConfig, "invalid bridge name \"" + c.bridge + "\"",
                    st.error().msg);
    c.isDefaultGateway = TRY(boolField(raw, "isDefaultGateway"));
    c.isGateway = TRY(boolField(raw, "isGateway")) || c.isDefaultGateway;
    c.forceAddress = TRY(boolField(raw, "forceAddress"));
    c.ipMasq = TRY(boolField(raw, "ipMasq"));
    if (auto b = TRY(cni::fields::optString(raw, "ipMasqBackend", ""))) c.ipMasqBackend = *b;
    TRY(nat::parseBackend(c.ipMasqBackend, "ipMasqBackend"));
    c.mtu = uint32_t(TRY(intField(raw, "mtu", 0, 0, 65535)));
    if (c.mtu != 0 && c.mtu < 68)
        return fail(Code::InvalidConfig,
                    "invalid mtu " + std::to_string(c.mtu) +
                        ": must be 0 (kernel default) or between 68 and 65535");
    c.hairpinMode = TRY(boolField(raw, "hairpinMode"));
    c.promiscMode = TRY(boolField(raw, "promiscMode"));
    if (c.hairpinMode && c.promiscMode)
        return fail(Code::InvalidConfig, "cannot set hairpinMode and promiscMode at the same time");
    c.vlan = int(TRY(intField(raw, "vlan", 0, 0, 4094)));
    c.vlanTrunk = TRY(parseTrunk(raw));
    c.preserveDefaultVlan = TRY(boolField(raw, "preserveDefaultVlan"));
    c.macspoofchk = TRY(boolField(raw, "macspoofchk"));
    c.enableDad = TRY(boolField(raw, "enabledad"));
    c.disableContainerInterface = TRY(boolField(raw, "disableContainerInterface"));
    c.portIsolation = TRY(boolField(raw, "portIsolation"));
    if (c.disableContainerInterface && !args.conf.ipamType.empty())
        return fail(Code::InvalidConfig,
                    "disableContainerInterface cannot be used together with ipam");
    c.mac = TRY(parseMac(args));
    if (c.ipMasq && !plugin::natAvailable())
        return fail(Code::UnsupportedField, "unsupported field ipMasq: true (built without NAT)");
    return c;
}

} // namespace tether::bridge
