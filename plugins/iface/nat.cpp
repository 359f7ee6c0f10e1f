#include "plugins/iface/nat.hpp"

namespace tether::plugin {

// Built without plugins/common: the plugins refuse ipMasq (natAvailable() is false), so these
// are never reached with work to do.
bool natAvailable() {
    return false;
}
Status setupNat(const cni::CmdArgs&, const NatSpec&, const cni::Result&) {
    return {};
}
Status teardownNat(const cni::CmdArgs&, const NatSpec&) {
    return {};
}
Status checkNat(const cni::CmdArgs&, const NatSpec&, const cni::Result&) {
    return {};
}
Status gcNat(const cni::CmdArgs&) {
    return {};
}

} // namespace tether::plugin
