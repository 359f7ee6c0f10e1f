// The tuning plugin (chained): sysctls inside the container netns and link attributes of
// CNI_IFNAME (mac, promisc, mtu, txQLen, allmulti), the originals saved on ADD and restored on
// DEL. See docs/plugins/tuning.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cni/skel.hpp"

namespace tether::tuning {

/// One sysctl to set: the key as configured, its path below /proc/sys, the value.
struct Sysctl {
    std::string key;  ///< as written in the config ("net.ipv4.conf.IFNAME.arp_filter")
    std::string path; ///< "net/ipv4/conf/eth0/arp_filter" (dots -> '/', IFNAME substituted)
    std::string value;
};

struct Config {
    std::vector<Sysctl> sysctls; ///< `sysctl`, then `args.cni.sysctl` replacing the same paths
    std::string mac;             ///< normalised "aa:bb:..", empty = unchanged
    bool promisc = false;        ///< true = turn promiscuous mode on
    std::optional<uint32_t> mtu; ///< absent or 0 in the config = unchanged
    std::optional<uint32_t> txQLen;
    std::optional<bool> allmulti;
    std::string dataDir = "/run/cni/tuning";
};

/// Test-only: the environment variable that replaces the allowlist path
/// /etc/cni/tuning/allowlist.conf (a runtime never sets it).
inline constexpr const char* kAllowlistEnv = "TETHER_TUNING_ALLOWLIST";

/// Parses and validates the config. Sources of the mac, later wins: `mac`, CNI_ARGS `MAC=`,
/// `runtimeConfig.mac`, `args.cni.mac`; `args.cni.{sysctl,promisc,mtu,txQLen,allmulti}` override
/// the top-level keys. Errors: code 6 for wrong types; code 7 for a duplicated sysctl key (in one
/// map, or two keys naming the same file), a key outside net.*, an invalid mac, an mtu outside
/// 68..65535, a txQLen outside 0..4294967295, a relative dataDir; code 4 for bad CNI_ARGS.
Expected<Config> parseConfig(const cni::CmdArgs& args);

/// Every sysctl key must match a regex line of the allowlist file when that file exists (code 7
/// "sysctl K is not allowed ..."). The file is /etc/cni/tuning/allowlist.conf or $kAllowlistEnv.
Status checkAllowlist(const Config& c);

/// The state file of an attachment: <dataDir>/<containerID>_<ifname>.json.
std::string backupPath(const std::string& dataDir, const std::string& containerId,
                       const std::string& ifname);

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
Status cmdDel(const cni::CmdArgs& args);
Status cmdCheck(const cni::CmdArgs& args);
/// Removes state files of this network whose attachment is not in cni.dev/valid-attachments.
Status cmdGc(const cni::CmdArgs& args);
cni::PluginFuncs pluginFuncs();

} // namespace tether::tuning
