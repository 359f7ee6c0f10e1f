#include "plugins/iface/teardown.hpp"

#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"

namespace tether::plugin {

Status deleteContainerLink(const cni::CmdArgs& args) {
    if (args.netns.empty()) return {};
    auto ns = TRY(net::Netns::openIfExists(args.netns));
    if (!ns) return {};
    auto sock = TRY(net::NetlinkSocket::openIn(*ns));
    auto gone = net::deleteLink(sock, std::string_view(args.ifname));
    if (!gone) return std::unexpected(gone.error().wrap("delete " + args.ifname + " in " + args.netns));
    return {};
}

} // namespace tether::plugin
