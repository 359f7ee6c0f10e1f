#include "plugins/iface/teardown.hpp"

#include "libnet/link.hpp"
#include "libnet/link_detach.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"

namespace tether::plugin {

Status deleteContainerLink(const cni::CmdArgs& args) {
    if (args.netns.empty()) return {};
    auto ns = TRY(net::Netns::openIfExists(args.netns));
    if (!ns) return {};
    // The kernel's deferred part of the deletion (~15 ms) finishes after we return: the
    // interface is already gone from the netns by then (see libnet/link_detach.hpp).
    auto gone = net::deleteLinkDetached(*ns, args.ifname);
    if (!gone)
        return std::unexpected(gone.error().wrap("delete " + args.ifname + " in " + args.netns));
    return {};
}

} // namespace tether::plugin
