// Plugin stdin: checkJsonText, parseJsonChecked and parseNetConf (the parser every plugin runs
// on its config), then the prevResult written back in the config's version as ADD does.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cni/config.hpp"
#include "cni/json_limits.hpp"
#include "cni/version.hpp"

using namespace tether::cni;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto checked = checkJsonText(text, "fuzz");
    auto parsed = parseJsonChecked(text, "fuzz");
    // parseJsonChecked runs checkJsonText first: it can only succeed when the check did.
    if (parsed && !checked) __builtin_trap();
    auto nc = parseNetConf(text);
    if (!nc) {
        (void)nc.error().text();
        return 0;
    }
    if (!checked) __builtin_trap(); // parseNetConf must apply the same bounds
    if (nc->prevResult && isSupported(nc->cniVersion))
        (void)toJson(*nc->prevResult, nc->cniVersion);
    (void)findKey(nc->raw, "bandWidth");
    (void)nc->raw.dump();
    return 0;
}
