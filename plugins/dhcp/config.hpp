// The dhcp IPAM plugin's config: the reference's ipam keys (daemonSocketPath, request, provide)
// plus `timeout`, turned into the daemon request before anything is sent.
#pragma once

#include <string>

#include "base/error.hpp"
#include "cni/skel.hpp"
#include "plugins/dhcp/rpc.hpp"

namespace tether::dhcp {

/// Options requested (option 55) unless a `request` entry has skipDefault: subnet mask, router,
/// DNS servers, domain name, static routes, classless static routes.
inline constexpr uint8_t kDefaultRequest[] = {1, 3, 6, 15, 33, 121};

/// What the plugin sends and where.
struct PluginConfig {
    std::string socketPath = kDefaultSocketPath;
    Request request; ///< method left empty
};

/// The reference's client ID: "<containerID>/<network name>/<ifname>" cut to 254 bytes.
std::string clientIdFor(const std::string& containerId, const std::string& network,
                        const std::string& ifname);

/// DHCP option code of a name (dhcp-client-identifier, subnet-mask, routers, host-name,
/// user-class, vendor-class-identifier, domain-name-servers, domain-name, static-routes,
/// classless-static-route) or a number 1..254; nullopt otherwise.
std::optional<uint8_t> optionCode(const std::string& name);

/// Parses ipam.* from the config. Errors, before anything is contacted: code 6 for wrong types
/// ("ipam.request[0].option must be a string"), code 7 for an unknown option name or a value over
/// 255 bytes ("ipam.provide[1]: value too long for option \"host-name\""), a relative or
/// over-long daemonSocketPath, a timeout outside 1..3600 s. netns is made absolute here.
Expected<PluginConfig> parsePluginConfig(const cni::CmdArgs& args);

} // namespace tether::dhcp
