// CNI_ARGS parsing and the name validators the skeleton applies to the environment.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cni/args.hpp"

using namespace tether::cni;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto pairs = parseCniArgs(text, {"K8S_POD_NAME", "K8S_POD_NAMESPACE", "IP", "MAC", "GATEWAY"});
    if (pairs) {
        for (const auto& [k, v] : *pairs) {
            const std::string* found = findArg(*pairs, k);
            if (!found) __builtin_trap();
            (void)v;
        }
    } else {
        (void)pairs.error().text();
    }
    auto lax = parseCniArgs(text, {});
    (void)lax;
    (void)validateContainerId(text);
    (void)validateNetworkName(text);
    (void)validateIfName(text);
    (void)validatePluginType(text);
    return 0;
}
