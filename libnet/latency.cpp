#include "libnet/latency.hpp"

#include <cstdlib>
#include <string_view>

namespace tether::net {

bool latencyEnabled(Latency mechanism) {
    const char* name = "TETHER_IPAM_OVERLAP";
    if (mechanism == Latency::DetachedDelete) name = "TETHER_DETACHED_DELETE";
    if (mechanism == Latency::NfHolder) name = "TETHER_NF_HOLDER";
    const char* v = std::getenv(name);
    if (!v) return true;
    std::string_view s(v);
    return !(s == "0" || s == "false" || s == "no" || s == "off");
}

} // namespace tether::net
