// veth pairs created in one request with the container end born inside the container netns
// (peer IFLA_NET_NS_FD), so a half-made pair never appears under a wrong name in the host.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"

namespace tether::net {

struct VethSpec {
    std::string containerName;             ///< e.g. CNI_IFNAME; required
    const Netns* containerNetns = nullptr; ///< where the container end is created; nullptr =
                                           ///< the host socket's netns
    std::string hostName;                  ///< empty = "veth" + 8 random hex digits
    uint32_t mtu = 0;                      ///< 0 = kernel default, both ends
    std::string containerMac;              ///< empty = kernel-random
    std::string hostMac;                   ///< empty = kernel-random
};

/// Both ends as the kernel reports them after creation (each looked up in its own netns).
struct VethPair {
    LinkInfo host;
    LinkInfo container;
};

/// Creates the pair: the host end in `hostSock`'s netns, the container end named
/// spec.containerName in spec.containerNetns, both down. `containerSock` must be a socket in
/// spec.containerNetns (used to check for name clashes and to read the container end back).
/// Errors: invalid names/MAC, MTU below 68 -> code 7; container name already present in the
/// container netns
/// -> code 102 Conflict "container veth name <name> already exists" (errnum EEXIST); a random
/// host name that collides is retried up to 10 times, a caller-given one that exists -> code 102
/// errnum EEXIST. If reading back fails the pair is deleted again.
Expected<VethPair> createVeth(NetlinkSocket& hostSock, NetlinkSocket& containerSock,
                              const VethSpec& spec);

/// A fresh "veth" + 8 random hex digits name (not checked against existing links).
std::string randomVethName();

} // namespace tether::net
