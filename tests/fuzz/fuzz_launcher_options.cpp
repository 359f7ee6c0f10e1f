// `tether run` option values: sizes (--memory), ports (-p), ulimits, users, namespace modes,
// volumes, names, and the cross-field validation. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/options.hpp"

using namespace tether::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::string s(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 8) {
    case 0: {
        auto b = parseBytes(s);
        RunOptions o;
        o.id = "fuzz";
        o.command = {"true"};
        o.limits.memoryBytes = b;
        (void)validateRunOptions(o);
        break;
    }
    case 1: {
        if (auto v = parsePortSpec(s))
            for (const auto& p : *v)
                if (p["hostPort"].get<int>() < 0 || p["containerPort"].get<int>() < 1 ||
                    p["containerPort"].get<int>() > 65535)
                    __builtin_trap();
        break;
    }
    case 2: {
        auto u = parseUlimit(s);
        if (u && u->soft > u->hard) __builtin_trap();
        break;
    }
    case 3:
        (void)parseUser(s);
        break;
    case 4:
        (void)parseNsMode("--pid", s);
        break;
    case 5:
        (void)parseVolume(s);
        break;
    case 6:
        (void)validName(s);
        break;
    default: {
        RunOptions o;
        o.id = s.substr(0, s.find('\n'));
        o.command = {"sh"};
        o.hostname = s;
        o.workdir = s;
        auto b = parseBytes(s);
        o.limits.memorySwapBytes = b;
        o.limits.memoryBytes = b ? std::optional<int64_t>(*b / 2) : std::nullopt;
        (void)validateRunOptions(o);
    }
    }
    return 0;
}
