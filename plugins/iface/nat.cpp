#include "plugins/iface/nat.hpp"

#include "nat/masq.hpp"
#include "plugins/iface/container_iface.hpp"

namespace tether::plugin {

namespace {

// The container's addresses (with their subnet prefix) from the result's IPs.
std::vector<net::IpPrefix> containerIps(const cni::Result& r) {
    std::vector<net::IpPrefix> out;
    for (const auto& ip : r.ips)
        if (auto p = net::IpPrefix::parse(ip.address)) out.push_back(*p);
    return out;
}

} // namespace

bool natAvailable() {
    return true;
}

Status setupNat(const cni::CmdArgs& args, const NatSpec& spec, const cni::Result& result) {
    return nat::setupMasq({.network = args.conf.name,
                           .containerId = args.containerId,
                           .ifname = args.ifname,
                           .ips = containerIps(result),
                           .backend = spec.backend});
}

Status teardownNat(const cni::CmdArgs& args, const NatSpec&) {
    // prevResult (libcni's cached result) names the addresses ADD masqueraded: their elements
    // are then found by key instead of by listing every container's.
    std::vector<net::IpPrefix> ips;
    if (args.conf.prevResult) ips = containerIps(*args.conf.prevResult);
    return nat::teardownMasq(args.conf.name, args.containerId, args.ifname, ips);
}

Status checkNat(const cni::CmdArgs& args, const NatSpec& spec, const cni::Result& result) {
    return nat::checkMasq({.network = args.conf.name,
                           .containerId = args.containerId,
                           .ifname = args.ifname,
                           .ips = containerIps(result),
                           .backend = spec.backend});
}

Status gcNat(const cni::CmdArgs& args) {
    return nat::gcMasq(args.conf.name, validAttachments(args.conf.raw));
}

} // namespace tether::plugin
