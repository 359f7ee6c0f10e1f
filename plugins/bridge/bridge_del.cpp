#include <cerrno>

#include "cni/invoke.hpp"
#include "plugins/iface/teardown.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "plugins/bridge/bridge.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/bridge/spoofcheck.hpp"
#include "plugins/iface/nat.hpp"
#include "plugins/iface/pending_ipam.hpp"

namespace tether::bridge {

Status cmdDel(const cni::CmdArgs& args) {
    // A config we cannot parse still gets its IPAM lease released: the runtime may retry DEL
    // forever otherwise. Only the NAT step needs the parsed config.
    auto c = parseConfig(args);
    plugin::ErrorCollector errors;
    // The lease is released (always, even without a netns) while the kernel deletes the link.
    auto [ipam, link] =
        plugin::releaseIpamAlongside(args, [&] { return plugin::deleteContainerLink(args); });
    errors.add(link);
    errors.add(ipam);
    if (c && c->macspoofchk)
        errors.add(teardownSpoofCheck({.containerId = args.containerId, .ifname = args.ifname}));
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
