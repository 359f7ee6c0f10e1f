#include "tests/e2e/conflists/libcni_chain.hpp"

#include <vector>

#include "tests/support/plugin_runner.hpp"

namespace tether::test {

using nlohmann::json;

namespace {

PluginRun exec(const std::string& dir, const std::string& cmd, const ChainAttachment& a,
               const json& conf) {
    return runPlugin(dir + "/" + conf["type"].get<std::string>(), cmd,
                     {{"CNI_CONTAINERID", a.containerId},
                      {"CNI_NETNS", a.netns},
                      {"CNI_IFNAME", a.ifname},
                      {"CNI_PATH", dir}},
                     conf.dump());
}

std::string describe(const json& conf, const std::string& cmd, const PluginRun& r) {
    return conf["type"].get<std::string>() + " " + cmd + ": exit " + std::to_string(r.exitCode) +
           " " + r.out + " " + r.err;
}

} // namespace

json LibcniChain::pluginConf(const json& plugin, const ChainAttachment& a, const json& prev) const {
    json conf = plugin;
    conf["name"] = list_["name"];
    conf["cniVersion"] = list_["cniVersion"];
    if (!prev.is_null()) conf["prevResult"] = prev;
    json rc = json::object();
    if (plugin.contains("capabilities"))
        for (const auto& [cap, on] : plugin["capabilities"].items())
            if (on == true && a.capabilityArgs.contains(cap)) rc[cap] = a.capabilityArgs[cap];
    if (!rc.empty()) conf["runtimeConfig"] = rc;
    return conf;
}

ChainOutcome LibcniChain::add(const ChainAttachment& a) const {
    json prev;
    for (const auto& plugin : list_["plugins"]) {
        json conf = pluginConf(plugin, a, prev);
        PluginRun r = exec(cniPath_, "ADD", a, conf);
        if (r.exitCode != 0 || !r.json) return {.error = describe(conf, "ADD", r)};
        prev = *r.json;
    }
    return {.ok = true, .result = prev};
}

ChainOutcome LibcniChain::check(const ChainAttachment& a, const json& result) const {
    for (const auto& plugin : list_["plugins"]) {
        json conf = pluginConf(plugin, a, result);
        PluginRun r = exec(cniPath_, "CHECK", a, conf);
        if (r.exitCode != 0) return {.error = describe(conf, "CHECK", r)};
    }
    return {.ok = true};
}

ChainOutcome LibcniChain::del(const ChainAttachment& a, const json& result) const {
    ChainOutcome out{.ok = true};
    std::vector<json> plugins(list_["plugins"].begin(), list_["plugins"].end());
    for (auto it = plugins.rbegin(); it != plugins.rend(); ++it) {
        const json& plugin = *it;
        json conf = pluginConf(plugin, a, result);
        PluginRun r = exec(cniPath_, "DEL", a, conf);
        if (r.exitCode != 0 && out.ok) out = {.error = describe(conf, "DEL", r)};
    }
    return out;
}

} // namespace tether::test
