// Which NAT backend a config asks for: the reference keys `ipMasqBackend` (bridge, veth/ptp,
// masquerade) and `backend` (portmap, masquerade, firewall). nftables is the default where it
// can be used; where it cannot (no libnftables, a kernel without nf_tables) the iptables backend,
// as the reference plugins choose. An explicit value always wins.
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace tether::nat {

enum class Backend { Nftables, Iptables };

/// Syntax only, no probe: "" and "nftables" -> Nftables, "iptables" -> Iptables; anything else
/// is code 7 `invalid <key> "<value>": must be "nftables" or "iptables"`. For config validation
/// where nothing is installed (DEL, parse-time checks).
Expected<Backend> parseBackend(std::string_view value, std::string_view key);

/// The backend to install with. "nftables"/"iptables" as written (no probe); any other non-empty
/// value is code 7 as parseBackend. "" (the key absent: automatic) is Nftables when nftables is
/// usable here (nftablesUsable), else Iptables, and the fallback is said once per process on
/// stderr: "tether: nftables is not usable here (<reason>); <key> not set: using iptables".
Expected<Backend> resolveBackend(std::string_view value, std::string_view key);

/// Whether nftables can be used in the calling thread's netns, probed once per process: empty
/// when usable, else the reason. Usable when table inet tether exists already (one netlink
/// request, no library needed), or when the kernel answers nf_tables requests and libnftables.so.1
/// loads (needed to create the table). Test hook, for tests only: the environment variable
/// TETHER_TEST_NFTABLES_UNAVAILABLE=1 makes it report "unavailable
/// (TETHER_TEST_NFTABLES_UNAVAILABLE)".
const std::string& nftablesUnusableReason();

} // namespace tether::nat
