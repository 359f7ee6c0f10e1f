#include "bench/cni/chain_runner.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cni/invoke.hpp"

namespace tether::bench {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

json pluginStdin(const json& list, const json& plugin, const ChainCall& call, const json* prev) {
    json conf = plugin;
    conf["name"] = list.at("name");
    conf["cniVersion"] = list.at("cniVersion");
    if (prev) conf["prevResult"] = *prev;
    json rc = json::object();
    if (auto caps = plugin.find("capabilities"); caps != plugin.end())
        for (const auto& [k, v] : caps->items())
            if (v == true && call.capabilityArgs.contains(k)) rc[k] = call.capabilityArgs[k];
    if (!rc.empty()) conf["runtimeConfig"] = rc;
    return conf;
}

Expected<std::pair<double, std::string>> execOne(const std::string& command, const json& conf,
                                                 const ChainCall& call) {
    cni::ExecRequest req;
    req.pluginPath = call.pluginDir + "/" + conf.at("type").get<std::string>();
    req.env = {{"CNI_COMMAND", command},
               {"CNI_CONTAINERID", call.containerId},
               {"CNI_NETNS", call.netns},
               {"CNI_IFNAME", call.ifname},
               {"CNI_PATH", call.pluginDir}};
    req.stdinData = conf.dump();
    auto t0 = Clock::now();
    auto out = TRY(cni::execPluginRaw(req));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (std::getenv("CNI_BENCH_TRACE"))
        std::fprintf(stderr, "%s %s %.2f\n", command.c_str(), req.pluginPath.c_str(), ms);
    if (out.exitCode != 0)
        return fail(Code::Internal,
                    command + " " + req.pluginPath + " failed: " + out.out + out.err);
    return std::pair{ms, std::move(out.out)};
}

} // namespace

Expected<ChainTiming> chainAdd(const json& list, const ChainCall& call) {
    ChainTiming t;
    json prev;
    bool havePrev = false;
    for (const auto& plugin : list.at("plugins")) {
        auto [ms, out] =
            TRY(execOne("ADD", pluginStdin(list, plugin, call, havePrev ? &prev : nullptr), call));
        t.ms += ms;
        prev = json::parse(out);
        havePrev = true;
    }
    t.result = prev;
    return t;
}

Expected<ChainTiming> chainDel(const json& list, const ChainCall& call, const json& prevResult) {
    ChainTiming t;
    const auto& plugins = list.at("plugins");
    for (auto it = plugins.rbegin(); it != plugins.rend(); ++it) {
        auto [ms, out] = TRY(execOne("DEL", pluginStdin(list, *it, call, &prevResult), call));
        t.ms += ms;
    }
    return t;
}

} // namespace tether::bench
