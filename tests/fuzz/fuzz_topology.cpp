// The netns-fixtures topology parser (Topology::parseText): validation only, nothing is created.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "netns-fixtures/topology.hpp"

using namespace tether::fixture;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto t = Topology::parseText(text, "/nonexistent-fuzz-dir");
    if (!t) {
        (void)t.error().text();
        return 0;
    }
    for (const auto& n : t->namespaceNames())
        if (!validateName(n, "ns")) __builtin_trap(); // a parsed topology is consistent
    for (const auto& l : t->links)
        if (l.a.ifname.empty() || l.b.ifname.empty()) __builtin_trap();
    return 0;
}
