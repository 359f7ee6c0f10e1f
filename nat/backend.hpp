// Which NAT backend a config asks for: the reference keys `ipMasqBackend` (bridge, veth/ptp,
// masquerade) and `backend` (portmap, masquerade). nftables is the default.
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace tether::nat {

enum class Backend { Nftables, Iptables };

/// "" and "nftables" -> Nftables, "iptables" -> Iptables; anything else is code 7
/// `invalid <key> "<value>": must be "nftables" or "iptables"`.
Expected<Backend> parseBackend(std::string_view value, std::string_view key);

} // namespace tether::nat
