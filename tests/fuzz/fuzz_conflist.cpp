// Network configuration lists (runtime/net): parseNetworkList, parseLegacyConf, and for one input
// in eight the directory loader (loadNetworks + findNetwork) over the input written as a file in
// a private scratch directory.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "cni/version.hpp"
#include "libcni/netconf.hpp"

using namespace tether::rt;

namespace {

const std::string& scratchDir() {
    static const std::string dir = [] {
        char tmpl[] = "/tmp/tether-fuzz-conflist-XXXXXX";
        const char* d = ::mkdtemp(tmpl);
        if (!d) std::abort();
        return std::string(d);
    }();
    return dir;
}

void checkList(const NetworkList& l) {
    // A parsed list is usable: a name, at least one plugin, a version we support.
    if (l.name.empty() || l.plugins.empty() || !tether::cni::isSupported(l.cniVersion))
        __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 8) {
    case 6:
        if (auto l = parseLegacyConf(text, "fuzz.conf")) checkList(*l);
        break;
    case 7: {
        const std::string& dir = scratchDir();
        const std::string file = dir + ((data[0] & 8) ? "/10-fuzz.conf" : "/10-fuzz.conflist");
        {
            std::ofstream out(file, std::ios::trunc | std::ios::binary);
            out << text;
        }
        std::vector<std::string> problems;
        auto lists = loadNetworks(dir, &problems);
        for (const auto& l : lists) {
            checkList(l);
            auto found = findNetwork(dir, l.name);
            if (!found) __builtin_trap(); // loadNetworks listed it
        }
        (void)findNetwork(dir, "absent");
        ::unlink(file.c_str());
        break;
    }
    default:
        if (auto l = parseNetworkList(text, "fuzz.conflist"))
            checkList(*l);
        else
            (void)l.error().text();
    }
    return 0;
}
