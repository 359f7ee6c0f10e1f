// The plugin skeleton's main entry point (pluginMainWith) with a fake environment: the first
// input byte picks CNI_COMMAND and variations of the environment, the rest is stdin. The handlers
// echo prevResult, as a chained plugin does, so ADD output goes through toJson.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "cni/skel.hpp"

using namespace tether::cni;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    static const char* const kCommands[] = {"ADD",    "DEL", "CHECK", "VERSION",
                                            "STATUS", "GC",  "",      "BOGUS"};
    const uint8_t sel = data[0];
    const std::string command = kCommands[sel & 7];
    const bool withArgs = sel & 8;
    const bool oddIfname = sel & 16;
    SkelIo io;
    io.stdinData.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
    io.getenv = [&](std::string_view name) -> std::optional<std::string> {
        if (name == "CNI_COMMAND") {
            if (command.empty()) return std::nullopt;
            return command;
        }
        if (name == "CNI_CONTAINERID") return std::string("fuzz-container");
        // Our own netns with the override: the skeleton's real netns check runs and passes.
        if (name == "CNI_NETNS") return command == "DEL" ? std::string() : "/proc/self/ns/net";
        if (name == "CNI_NETNS_OVERRIDE") return std::string("1");
        if (name == "CNI_IFNAME") return std::string(oddIfname ? "eth0:1" : "eth0");
        if (name == "CNI_PATH") return std::string("/nonexistent-fuzz-path");
        if (name == "CNI_ARGS" && withArgs) return std::string("IgnoreUnknown=1;K8S_POD_NAME=p");
        return std::nullopt;
    };
    PluginFuncs funcs;
    funcs.add = [](const CmdArgs& a) -> tether::Expected<Result> {
        return a.conf.prevResult.value_or(Result{});
    };
    funcs.del = [](const CmdArgs& a) -> tether::Status {
        if (a.conf.prevResult) TRY(toJson(*a.conf.prevResult, a.conf.cniVersion));
        return {};
    };
    PluginInfo info{.about = "fuzz"};
    int rc = pluginMainWith(funcs, info, io);
    if (rc != 0 && rc != 1) __builtin_trap();
    // Whatever happened, stdout is one JSON document (result, version or error), or nothing.
    if (!io.out.empty() && nlohmann::json::parse(io.out, nullptr, false).is_discarded())
        __builtin_trap();
    return 0;
}
