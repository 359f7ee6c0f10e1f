// Giving a device back to the host netns: shared by DEL and by the undo of a failed ADD.
#pragma once

#include "libnet/netlink.hpp"
#include "plugins/host-device/host_device.hpp"

namespace tether::hostdevice {

/// Restores what ADD saved on the host link called s.name: MTU, addresses (present ones are
/// fine), alias, up. A missing link is code 100 errnum ENODEV.
Status restoreInHost(net::NetlinkSocket& host, const Saved& s);

/// Moves container link `index` (found through `csock`) into the host netns (`host`'s) as
/// `name`. The kernel refuses when `name` is taken there: code 102 naming it, and the link stays
/// in the container so a later DEL can retry.
Status moveToHost(net::NetlinkSocket& csock, int index, const std::string& name,
                  const std::string& ifname);

} // namespace tether::hostdevice
