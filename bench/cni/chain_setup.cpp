#include "bench/cni/chain_setup.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/common/driver.hpp"
#include "libnet/netns.hpp"

namespace tether::bench {

using nlohmann::json;

namespace {

bool parseChainOption(ChainOptions& o, const std::string& arg,
                      const std::function<std::string()>& next) {
    if (arg == "--chain")
        o.chain = next();
    else if (arg == "--plugins")
        o.plugins = next();
    else if (arg == "--label")
        o.label = next();
    else if (arg == "--count")
        o.count = std::stoi(next());
    else if (arg == "--bridge")
        o.bridge = next();
    else if (arg == "--subnet")
        o.subnet = next();
    else if (arg == "--ports")
        o.ports = true;
    else if (arg == "--netns-dir")
        o.netnsDir = next();
    else if (arg == "--data-dir")
        o.dataDir = next();
    else
        return false;
    return true;
}

} // namespace

bool parseChainArgs(int argc, char** argv, ChainOptions& o, const ExtraOption& extra) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        std::function<std::string()> next = [&]() -> std::string {
            return i + 1 < argc ? argv[++i] : "";
        };
        if (!parseChainOption(o, a, next) && !extra(a, next)) {
            std::cerr << "unknown argument " << a << "\n";
            return false;
        }
    }
    return true;
}

json loadChain(const ChainOptions& o, const std::string& dataDir) {
    std::ifstream in(o.chain);
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(
        replaceAll(replaceAll(replaceAll(ss.str(), "@DATADIR@", dataDir), "@BRIDGE@", o.bridge),
                   "@SUBNET@", o.subnet));
}

Expected<ContainerNetns> ContainerNetns::create(const std::string& dir, int count) {
    std::filesystem::create_directories(dir);
    ContainerNetns set;
    for (int i = 0; i < count; ++i) {
        set.paths_.push_back(dir + "/c" + std::to_string(i));
        if (auto ns = net::createPinnedNetns(set.paths_.back()); !ns) {
            set.paths_.pop_back();
            return std::unexpected(std::move(ns).error());
        }
    }
    return set;
}

ContainerNetns::~ContainerNetns() {
    removeAll();
}

void ContainerNetns::removeAll() {
    for (const auto& p : paths_)
        (void)net::removePinnedNetns(p);
    paths_.clear();
}

ChainCall containerCall(const ChainOptions& o, const std::string& netns, int i) {
    ChainCall call{.pluginDir = o.plugins,
                   .containerId = slug(o.label) + "-" + std::to_string(i),
                   .netns = netns};
    if (o.ports)
        call.capabilityArgs = {
            {"portMappings",
             json::array({{{"hostPort", 20000 + i}, {"containerPort", 80}, {"protocol", "tcp"}}})}};
    return call;
}

} // namespace tether::bench
