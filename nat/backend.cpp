#include "nat/backend.hpp"

namespace tether::nat {

Expected<Backend> parseBackend(std::string_view value, std::string_view key) {
    if (value.empty() || value == "nftables") return Backend::Nftables;
    if (value == "iptables") return Backend::Iptables;
    return fail(Code::InvalidConfig, "invalid " + std::string(key) + " \"" + std::string(value) +
                                         "\": must be \"nftables\" or \"iptables\"");
}

} // namespace tether::nat
