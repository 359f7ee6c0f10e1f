// The bridge plugin's configuration: every key of the reference bridge, parsed and validated
// before anything touches the kernel.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "cni/skel.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::bridge {

struct VlanRange {
    int minId = 0;
    int maxId = 0;
};

struct Config {
    std::string bridge = "cni0";
    bool isGateway = false;
    bool isDefaultGateway = false; ///< implies isGateway
    bool forceAddress = false;
    bool ipMasq = false;
    std::string ipMasqBackend; ///< "", "nftables" or "iptables"
    uint32_t mtu = 0;          ///< 0 = kernel default
    bool hairpinMode = false;
    bool promiscMode = false;
    int vlan = 0; ///< 0 = none
    std::vector<VlanRange> vlanTrunk;
    bool preserveDefaultVlan = false;
    bool macspoofchk = false;
    bool enableDad = false;
    bool disableContainerInterface = false;
    bool portIsolation = false;
    std::string mac; ///< container MAC from CNI_ARGS / args / runtimeConfig

    [[nodiscard]] plugin::NatSpec nat() const { return {ipMasq, ipMasqBackend}; }
};

/// Parses and validates the config of `args` (conf.raw, CNI_ARGS, args.cni.mac,
/// runtimeConfig.mac; later sources win, as in the reference). Errors: code 6 for wrong types,
/// code 7 for invalid values (bridge name, mtu outside 68..65535, vlan outside 0..4094,
/// hairpinMode with promiscMode, disableContainerInterface with ipam, invalid MAC, ipMasqBackend
/// other than "nftables"/"iptables"), code 2 for
/// ipMasq when this build has no NAT support, code 4 for bad CNI_ARGS.
Expected<Config> parseConfig(const cni::CmdArgs& args);

} // namespace tether::bridge
