#include <cerrno>

#include "cni/invoke.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "plugins/bridge/bridge.hpp"
#include "plugins/bridge/config.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::bridge {

namespace {

// Deletes CNI_IFNAME inside the container netns. A missing netns or link means it is gone.
Status deleteContainerLink(const cni::CmdArgs& args) {
    if (args.netns.empty()) return {};
    auto ns = TRY(net::Netns::openIfExists(args.netns));
    if (!ns) return {};
    auto sock = TRY(net::NetlinkSocket::openIn(*ns));
    auto gone = net::deleteLink(sock, std::string_view(args.ifname));
    if (!gone)
        return std::unexpected(gone.error().wrap("delete " + args.ifname + " in " + args.netns));
    return {};
}

void collect(std::string& errors, const Status& st) {
    if (st) return;
    if (!errors.empty()) errors += "; ";
    errors += st.error().text();
}

} // namespace

Status cmdDel(const cni::CmdArgs& args) {
    // A config we cannot parse still gets its IPAM lease released: the runtime may retry DEL
    // forever otherwise. Only the NAT step needs the parsed config.
    auto c = parseConfig(args);
    std::string errors;
    collect(errors, deleteContainerLink(args));
    if (!args.conf.ipamType.empty())
        collect(errors, cni::delegateDel(args.conf.ipamType, args.stdinData));
    if (c && c->ipMasq) collect(errors, plugin::teardownNat(args, c->nat()));
    if (!errors.empty()) return fail(Code::Internal, "DEL incomplete: " + errors);
    return {};
}

Status cmdStatus(const cni::CmdArgs& args) {
    if (args.conf.ipamType.empty()) return {};
    return cni::delegateStatus(args.conf.ipamType, args.stdinData);
}

Status cmdGc(const cni::CmdArgs& args) {
    std::string errors;
    if (!args.conf.ipamType.empty())
        collect(errors, cni::delegateGc(args.conf.ipamType, args.stdinData));
    collect(errors, plugin::gcNat(args));
    if (!errors.empty()) return fail(Code::Internal, "GC incomplete: " + errors);
    return {};
}

} // namespace tether::bridge
