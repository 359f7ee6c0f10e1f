// A plugin that touches nothing: ADD reports an interface named after CNI_IFNAME in CNI_NETNS
// with the address given in CNI_ARGS (IP=...), DEL and CHECK append a line to the file named by
// the config key "record". Exercises pluginMain as a real process.
#include <fstream>

#include "cni/args.hpp"
#include "cni/skel.hpp"

using namespace tether;
using namespace tether::cni;

namespace {

Status record(const CmdArgs& a) {
    if (const auto* file = findKey(a.conf.raw, "record"); file && file->is_string())
        std::ofstream(file->get<std::string>(), std::ios::app)
            << a.command << " " << a.containerId << " " << a.ifname << " " << a.netns << "\n";
    return {};
}

} // namespace

int main() {
    PluginFuncs funcs;
    funcs.add = [](const CmdArgs& a) -> Expected<Result> {
        auto args = TRY(parseCniArgs(a.args, {"IP"}));
        const std::string* ip = findArg(args, "IP");
        Result r = a.conf.prevResult.value_or(Result{});
        r.interfaces.push_back({a.ifname, "", {}, a.netns, "", ""});
        r.ips.push_back({ip ? *ip : "10.99.0.2/24", "", static_cast<int>(r.interfaces.size() - 1)});
        TRY(record(a));
        return r;
    };
    funcs.del = record;
    funcs.check = record;
    return pluginMain(funcs, PluginInfo{"tether test plugin"});
}
