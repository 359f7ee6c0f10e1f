#include <cerrno>

#include "cni/invoke.hpp"
#include "plugins/iface/teardown.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "plugins/bridge/bridge.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::bridge {

Status cmdDel(const cni::CmdArgs& args) {
    // A config we cannot parse still gets its IPAM lease released: the runtime may retry DEL
    // forever otherwise. Only the NAT step needs the parsed config.
    auto c = parseConfig(args);
    plugin::ErrorCollector errors;
    errors.add(plugin::deleteContainerLink(args));
    if (!args.conf.ipamType.empty())
        errors.add(cni::delegateDel(args.conf.ipamType, args.stdinData));
    if (c && c->ipMasq) errors.add(plugin::teardownNat(args, c->nat()));
    return errors.result("DEL");
}

Status cmdStatus(const cni::CmdArgs& args) {
    if (args.conf.ipamType.empty()) return {};
    return cni::delegateStatus(args.conf.ipamType, args.stdinData);
}

Status cmdGc(const cni::CmdArgs& args) {
    plugin::ErrorCollector errors;
    if (!args.conf.ipamType.empty())
        errors.add(cni::delegateGc(args.conf.ipamType, args.stdinData));
    errors.add(plugin::gcNat(args));
    return errors.result("GC");
}

} // namespace tether::bridge
