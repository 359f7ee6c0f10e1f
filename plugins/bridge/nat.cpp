#include "plugins/bridge/nat.hpp"

namespace tether::bridge {

// Built without plugins/common: parseConfig already refuses ipMasq, so these are never needed.
Status setupNat(const cni::CmdArgs&, const Config&, const cni::Result&) { return {}; }
Status teardownNat(const cni::CmdArgs&, const Config&) { return {}; }
Status checkNat(const cni::CmdArgs&, const Config&, const cni::Result&) { return {}; }
Status gcNat(const cni::CmdArgs&) { return {}; }

} // namespace tether::bridge
