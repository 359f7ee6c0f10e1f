#include "tests/e2e/bridge/bridge_env.hpp"

#include <unistd.h>

#include <filesystem>

#include "libnet/ip.hpp"

namespace tether::test::bridgetest {

namespace fs = std::filesystem;
using nlohmann::json;

std::string referencePlugin(const std::string& name) {
    std::string p = "/usr/lib/cni/" + name;
    return ::access(p.c_str(), X_OK) == 0 ? p : "";
}

PluginDir::PluginDir(bool ourBridge, bool ourHostLocal) {
    auto link = [&](const std::string& name, bool ours) {
        std::string target = ours ? binDir() + "/" + name : referencePlugin(name);
        if (target.empty()) return;
        fs::create_symlink(target, dir_.path() / name);
    };
    link("bridge", ourBridge);
    link("host-local", ourHostLocal);
}

json bridgeConfig(const std::string& version, const std::string& bridgeName,
                  const std::string& dataDir, const std::vector<std::string>& subnets,
                  const json& extra) {
    json ranges = json::array();
    for (const auto& s : subnets)
        ranges.push_back(json::array({json{{"subnet", s}}}));
    json conf = {{"cniVersion", version},
                 {"name", "testnet"},
                 {"type", "bridge"},
                 {"bridge", bridgeName},
                 {"ipam", {{"type", "host-local"}, {"ranges", ranges}, {"dataDir", dataDir}}}};
    conf.merge_patch(extra);
    return conf;
}

PluginRun call(const PluginDir& dir, const std::string& command, const std::string& containerId,
               const std::string& netns, const json& conf, const std::string& ifname) {
    std::vector<std::pair<std::string, std::string>> env = {
        {"CNI_CONTAINERID", containerId}, {"CNI_IFNAME", ifname}, {"CNI_PATH", dir.path()}};
    if (!netns.empty()) env.emplace_back("CNI_NETNS", netns);
    return runPlugin(dir.bridge(), command, env, conf.dump());
}

json withPrev(json conf, const json& prevResult) {
    conf["prevResult"] = prevResult;
    return conf;
}

std::vector<std::string> hostVeths() {
    auto r = execHere({"ip", "-j", "link", "show", "type", "veth"});
    std::vector<std::string> out;
    for (const auto& l : r.json())
        out.push_back(l.at("ifname").get<std::string>());
    return out;
}

std::vector<std::string> leases(const std::string& dataDir, const std::string& network) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(dataDir) / network, ec))
        if (net::IpAddress::parse(e.path().filename().string()))
            out.push_back(e.path().filename().string());
    return out;
}

std::vector<std::string> addressesIn(const ScratchNetns& ns, const std::string& ifname) {
    auto r = ns.exec({"ip", "-j", "addr", "show", "dev", ifname});
    std::vector<std::string> out;
    if (r.exitCode != 0) return out;
    for (const auto& l : r.json())
        for (const auto& a : l.at("addr_info"))
            if (a.value("scope", "") == "global")
                out.push_back(a.at("local").get<std::string>() + "/" +
                              std::to_string(a.at("prefixlen").get<int>()));
    return out;
}

} // namespace tether::test::bridgetest
