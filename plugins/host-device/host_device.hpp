// The host-device plugin: moves an existing host interface into the container as CNI_IFNAME and
// gives it back on DEL under its original name, with its MTU and addresses. Config-compatible with
// the reference host-device. See docs/plugins/host-device.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cni/skel.hpp"
#include "libnet/link_dump.hpp"

namespace tether::hostdevice {

struct Config {
    std::string device;     ///< "device": interface name in the host netns
    std::string hwaddr;     ///< "hwaddr": its MAC
    std::string kernelPath; ///< "kernelpath": /sys/devices/... of the device
    std::string pciBusId;   ///< "pciBusID", overridden by runtimeConfig.deviceID
    std::string dataDir = "/run/cni/host-device"; ///< where the saved host state lives
};

/// What DEL restores in the host netns, saved by ADD before the device leaves.
struct Saved {
    std::string network, containerId, ifname; ///< the owner
    std::string name;                         ///< the original name in the host netns
    std::string mac;                          ///< to recognise the device if renamed by the kernel
    std::string alias;                        ///< the alias it had (ADD sets it to `name`)
    uint32_t mtu = 0;
    bool up = false;
    std::vector<std::string> addresses; ///< "10.0.0.5/24", global scope, permanent
};

/// Parses and validates (no kernel access): wrong types code 6 naming the key; none of device,
/// hwaddr, kernelpath, pciBusID/deviceID given, an invalid hwaddr or device name, a kernelpath not
/// under /sys/devices/, a relative dataDir: code 7.
Expected<Config> parseConfig(const cni::CmdArgs& args);

/// The state file of one attachment: <dataDir>/<containerID>_<ifname>.json.
std::string statePath(const Config& c, const cni::CmdArgs& args);
/// Writes atomically (0600 temp file + rename; directories 0700). Code 5 on I/O errors.
Status writeSaved(const std::string& path, const Saved& s);
/// nullopt when the file does not exist; code 6 when it does not parse.
Expected<std::optional<Saved>> readSaved(const std::string& path);
/// Removes the file; false when it did not exist.
Expected<bool> removeSaved(const std::string& path);

/// The host link the config selects (in `sock`'s netns), or an error naming the key and value
/// (code 7 when nothing matches).
Expected<net::LinkRecord> findHostDevice(net::NetlinkSocket& sock, const Config& c);
/// True when the PCI device is bound to a userspace (DPDK) driver: vfio-pci, uio_pci_generic,
/// igb_uio. Such a device has no netdev; ADD/DEL leave it alone, as the reference does.
bool hasDpdkDriver(const std::string& pciBusId);

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
/// DEL: the device back to the host netns under its original name (from the container, or found
/// in the host where the kernel put it when the container netns went away), MTU, addresses and
/// alias restored; then IPAM release. Missing pieces are fine.
Status cmdDel(const cni::CmdArgs& args);
/// CHECK: IPAM CHECK, the device in the container with the result's MAC, addresses, routes.
Status cmdCheck(const cni::CmdArgs& args);

cni::PluginFuncs pluginFuncs();

} // namespace tether::hostdevice
