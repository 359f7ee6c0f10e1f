#include "tests/support/conflist_net.hpp"

#include <fstream>

#include <catch2/catch.hpp>

namespace tether::test {

using nlohmann::json;

ConflistNet::ConflistNet(std::string netName) : name(std::move(netName)) {
    paths = {.configDir = conf.path(), .cniPath = binDir(), .cacheDir = cache.path()};
}

void ConflistNet::write(const json& plugins) {
    json l = {{"cniVersion", "1.1.0"}, {"name", name}, {"plugins", plugins}};
    std::ofstream(conf / "n.conflist") << l.dump();
    auto resolved = rt::resolveNetwork(paths, name);
    if (!resolved) FAIL("resolve network " << name << ": " << resolved.error().text());
    list = std::move(*resolved);
}

PluginRun ConflistNet::runPlugin(const std::string& type, const std::string& command,
                                 json pluginConf,
                                 std::vector<std::pair<std::string, std::string>> env) const {
    pluginConf["name"] = name;
    if (!pluginConf.contains("cniVersion")) pluginConf["cniVersion"] = "1.1.0";
    env.emplace_back("CNI_PATH", binDir());
    return test::runPlugin(binDir() + "/" + type, command, env, pluginConf.dump());
}

json ConflistNet::masqBridge(const std::string& bridge, const json& ipamKeys) const {
    json ipam = {{"type", "host-local"}, {"dataDir", data.path().string()}};
    ipam.update(ipamKeys);
    return {{"type", "bridge"},
            {"bridge", bridge},
            {"isDefaultGateway", true},
            {"ipMasq", true},
            {"ipam", ipam}};
}

json rangeSets(const std::vector<json>& ranges) {
    json sets = json::array();
    for (const auto& r : ranges)
        sets.push_back(json::array({r}));
    return sets;
}

rt::RuntimeConf portMapAttachment(const std::string& id, const ScratchNetns& ns, json mappings) {
    return {.containerId = id,
            .netns = ns.path(),
            .ifname = "eth0",
            .capabilityArgs = {{"portMappings", std::move(mappings)}}};
}

} // namespace tether::test
