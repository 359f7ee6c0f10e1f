// Results in every spec version: parse (with a fallback version picked by the first byte), then
// write in every version and read back. Writing what was read back must give the same JSON again
// (toJson . parseResult . toJson == toJson), and every result we write must parse.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cni/json_limits.hpp"
#include "cni/result.hpp"
#include "cni/version.hpp"

using namespace tether::cni;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    auto versions = supportedVersions();
    std::string_view fallback = versions[data[0] % versions.size()];
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto j = parseJsonChecked(text, "result");
    if (!j) return 0;
    auto r = parseResult(*j, fallback, (data[0] & 0x80) ? "prevResult" : "");
    if (!r) {
        (void)r.error().text();
        return 0;
    }
    for (std::string_view v : versions) {
        auto out = toJson(*r, v);
        if (!out) continue; // e.g. 0.2.0 needs an address
        auto back = parseResult(*out, v);
        if (!back) __builtin_trap(); // we wrote something we cannot read
        auto again = toJson(*back, v);
        if (!again || *again != *out) __builtin_trap(); // round trip must be identity
        auto reparsed = parseJsonChecked(out->dump(), "dump");
        if (!reparsed || *reparsed != *out) __builtin_trap();
    }
    (void)toJson(*r, "9.9.9");
    return 0;
}
