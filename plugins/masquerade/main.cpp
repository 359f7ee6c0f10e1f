// masquerade: a chained plugin giving the containers of prevResult outbound NAT through the
// host's address (traffic leaving the container's own subnet; multicast exempt). Same mechanism
// as bridge/veth `ipMasq`; see docs/plugins/masquerade.md.
#include "base/fault_point.hpp"
#include "cni/json_fields.hpp"
#include "cni/skel.hpp"
#include "nat/backend.hpp"
#include "plugins/iface/nat.hpp"

using namespace tether;

namespace {

Expected<plugin::NatSpec> spec(const cni::CmdArgs& args) {
    plugin::NatSpec s{.ipMasq = true};
    const char* key = "ipMasqBackend";
    if (auto b = TRY(cni::fields::optString(args.conf.raw, "ipMasqBackend", ""))) s.backend = *b;
    if (auto b = TRY(cni::fields::optString(args.conf.raw, "backend", "")))
        s.backend = *b, key = "backend";
    TRY(nat::parseBackend(s.backend, key));
    return s;
}

Expected<cni::Result> add(const cni::CmdArgs& args) {
    auto s = TRY(spec(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "must be called as chained plugin (no prevResult)");
    TRY(plugin::setupNat(args, s, *args.conf.prevResult));
    TETHER_FAULT_POINT("masquerade.after-masq");
    return *args.conf.prevResult;
}

Status del(const cni::CmdArgs& args) {
    return plugin::teardownNat(args, {});
}

Status check(const cni::CmdArgs& args) {
    auto s = TRY(spec(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "masquerade CHECK requires a prevResult");
    return plugin::checkNat(args, s, *args.conf.prevResult);
}

} // namespace

int main() {
    return cni::pluginMain(
        {.add = add, .del = del, .check = check, .status = {}, .gc = plugin::gcNat},
        {.about = "tether masquerade plugin"});
}
