// firewall: its own executable (not a name of tether-cni) because, as the reference, it
// supports only CNI versions from 0.4.0 on, and VERSION must say so.
#include <string_view>

#include "plugins/firewall/firewall.hpp"

namespace {
constexpr std::string_view kVersions[] = {"0.4.0", "1.0.0", "1.1.0"};
}

int main() {
    return tether::cni::pluginMain(
        tether::firewall::pluginFuncs(),
        {.about = "tether firewall plugin", .versions = kVersions, .name = "firewall"});
}
