#include <cerrno>
#include <thread>
#include <vector>

#include "base/error_list.hpp"
#include "base/log.hpp"
#include "cni/invoke.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "plugins/bridge/bridge.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/bridge/spoofcheck.hpp"
#include "plugins/iface/nat.hpp"
#include "plugins/iface/pending_ipam.hpp"
#include "plugins/iface/teardown.hpp"

namespace tether::bridge {

Status cmdDel(const cni::CmdArgs& args) {
    // A config we cannot parse still gets its IPAM lease released: the runtime may retry DEL
    // forever otherwise. Only the NAT and spoof-check steps need the parsed config.
    auto c = parseConfig(args);
    // Deleting the link mostly waits for the kernel (an RCU grace period, ~16 ms here), so the
    // host-side state goes at the same time on a second thread: the IPAM lease (always, even
    // without a netns), the spoof-check rules, the NAT elements. None depends on the link.
    std::vector<Status> hostSide;
    // Except dhcp: its daemon sends the RELEASE through the container's interface, so that
    // lease goes before the link does (the reference's order for every IPAM).
    const bool ipamFirst = args.conf.ipamType == "dhcp";
    if (ipamFirst) hostSide.push_back(cni::delegateDel(args.conf.ipamType, args.stdinData));
    std::thread side([&] {
        if (!args.conf.ipamType.empty() && !ipamFirst)
            hostSide.push_back(cni::delegateDel(args.conf.ipamType, args.stdinData));
        if (c && c->macspoofchk)
            hostSide.push_back(
                teardownSpoofCheck({.containerId = args.containerId, .ifname = args.ifname}));
        if (c && c->ipMasq) hostSide.push_back(plugin::teardownNat(args, c->nat()));
    });
    log::debug("deleting {} in {}; releasing lease ({}), NAT and spoof-check state", args.ifname,
               args.netns.empty() ? "(no netns)" : args.netns, args.conf.ipamType);
    Status link = plugin::deleteContainerLink(args);
    side.join();
    ErrorList errors;
    errors.add(link);
    for (const auto& st : hostSide)
        errors.add(st);
    return errors.result("DEL");
}

Status cmdStatus(const cni::CmdArgs& args) {
    if (args.conf.ipamType.empty()) return {};
    return cni::delegateStatus(args.conf.ipamType, args.stdinData);
}

Status cmdGc(const cni::CmdArgs& args) {
    ErrorList errors;
    if (!args.conf.ipamType.empty())
        errors.add(cni::delegateGc(args.conf.ipamType, args.stdinData));
    errors.add(plugin::gcNat(args));
    return errors.result("GC");
}

} // namespace tether::bridge
