// `tether net ...` (cnitool-compatible list operations) and `tether netns ...`.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "base/digest.hpp"
#include "cni/args.hpp"
#include "cni/json_limits.hpp"
#include "cni/skel.hpp"
#include "cni/version.hpp"
#include "libcni/gc_all.hpp"
#include "libcni/net_ops.hpp"
#include "libcni/result_cache.hpp"
#include "libnet/netns.hpp"
#include "runtime/commands.hpp"

namespace tether::rt {

using nlohmann::json;

namespace {

struct NetCmdOptions {
    std::string network, netns, id, ifname, args, cap;
    bool json = false;
    bool all = false; ///< gc --all
};

// Prints the error (CNI error JSON on stdout with --json) and exits 1 through CLI11.
[[noreturn]] void failWith(const Error& e, bool asJson) {
    if (asJson) std::cout << cni::errorJson(e, cni::kCurrentVersion) << "\n";
    std::cerr << "tether: " << e.text() << "\n";
    throw CLI::RuntimeError(1);
}

template <class T> T orFail(Expected<T> v, bool asJson) {
    if (!v) failWith(v.error(), asJson);
    return std::move(*v);
}

void orFail(const Status& st, bool asJson) {
    if (!st) failWith(st.error(), asJson);
}

// cnitool's default container ID: "cnitool-" + first 20 hex digits of sha512(abs netns path).
std::string defaultContainerId(const std::string& netns) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(netns, ec).string();
    return "cnitool-" + sha512Hex(abs).substr(0, 20);
}

RuntimeConf runtimeConf(const NetCmdOptions& o) {
    RuntimeConf rt;
    rt.netns = o.netns;
    rt.containerId = o.id.empty() ? defaultContainerId(o.netns) : o.id;
    const char* envIf = std::getenv("CNI_IFNAME");
    rt.ifname = !o.ifname.empty() ? o.ifname : (envIf && *envIf ? envIf : "eth0");
    std::string args =
        !o.args.empty() ? o.args : (std::getenv("CNI_ARGS") ? std::getenv("CNI_ARGS") : "");
    if (!args.empty()) {
        for (size_t start = 0; start <= args.size();) {
            size_t end = args.find(';', start);
            std::string pair = args.substr(start, end - start);
            auto eq = pair.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size())
                failWith(Error{Code::InvalidEnv, "invalid CNI_ARGS pair \"" + pair + "\"", {}, 0},
                         o.json);
            rt.args.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
            if (end == std::string::npos) break;
            start = end + 1;
        }
    }
    std::string cap =
        !o.cap.empty() ? o.cap : (std::getenv("CAP_ARGS") ? std::getenv("CAP_ARGS") : "");
    if (!cap.empty()) {
        rt.capabilityArgs = cni::checkJsonText(cap, "") ? json::parse(cap, nullptr, false) : json();
        if (!rt.capabilityArgs.is_object())
            failWith(Error{Code::DecodeFailure, "capability args must be a JSON object", cap, 0},
                     o.json);
    }
    return rt;
}

void addListCommand(CLI::App& net, const std::string& verb, const std::string& help) {
    auto o = std::make_shared<NetCmdOptions>();
    auto* cmd = net.add_subcommand(verb, help);
    auto* network =
        cmd->add_option("NETWORK", o->network, "network name (from NETCONFPATH, or \"default\")");
    if (verb == "gc") {
        cmd->add_flag(
               "--all", o->all,
               "every network; only attachments whose netns is gone (safe while containers run)")
            ->excludes(network);
    } else {
        network->required();
    }
    bool needsNetns = verb != "status" && verb != "gc";
    auto* ns = cmd->add_option("NETNS", o->netns, "network namespace path, e.g. /run/netns/x");
    if (needsNetns) ns->required();
    cmd->add_option("--id", o->id, "container ID (default: cnitool's hash of NETNS)");
    cmd->add_option("--ifname", o->ifname, "interface name (default: CNI_IFNAME or eth0)");
    cmd->add_option("--args", o->args, "CNI_ARGS, K=V;K2=V2 (default: env CNI_ARGS)");
    cmd->add_option("--cap", o->cap, "capability args JSON (default: env CAP_ARGS)");
    cmd->add_flag("--json", o->json, "print errors as CNI error JSON on stdout");
    cmd->callback([o, verb] {
        NetPaths paths = NetPaths::fromEnv();
        if (verb == "gc" && o->all) {
            for (const auto& line : orFail(gcAllNetworks(paths), o->json))
                std::cout << line << "\n";
            return;
        }
        if (o->network.empty()) throw CLI::RequiredError("NETWORK (or --all)");
        NetworkList list = orFail(resolveNetwork(paths, o->network), o->json);
        if (verb == "status") return orFail(statusList(list, execEnv(paths)), o->json);
        if (verb == "gc") return orFail(gcNetwork(paths, list, {}), o->json);
        RuntimeConf rt = runtimeConf(*o);
        if (verb == "add") {
            json result = orFail(addNetwork(paths, list, rt), o->json);
            std::cout << result.dump(4) << "\n";
        } else if (verb == "del") {
            orFail(delNetwork(paths, list, rt), o->json);
        } else {
            orFail(checkNetwork(paths, list, rt), o->json);
        }
    });
}

void addLs(CLI::App& net) {
    auto* cmd = net.add_subcommand("ls", "list networks and cached attachments");
    auto asJson = std::make_shared<bool>(false);
    cmd->add_flag("--json", *asJson, "JSON output");
    cmd->callback([asJson] {
        NetPaths paths = NetPaths::fromEnv();
        std::vector<std::string> problems;
        auto lists = loadNetworks(paths.configDir, &problems);
        bool haveDefault = false;
        for (const auto& l : lists)
            haveDefault = haveDefault || l.name == "default";
        if (!haveDefault) lists.push_back(builtinDefaultNetwork());
        json out = {
            {"networks", json::array()}, {"attachments", json::array()}, {"problems", problems}};
        for (const auto& l : lists) {
            json types = json::array();
            for (const auto& p : l.plugins)
                types.push_back(p["type"]);
            out["networks"].push_back({{"name", l.name},
                                       {"cniVersion", l.cniVersion},
                                       {"file", l.file.empty() ? "(built-in)" : l.file},
                                       {"plugins", types}});
        }
        for (const auto& a : listCache(paths.cacheDir, ""))
            out["attachments"].push_back({{"network", a.network},
                                          {"containerId", a.containerId},
                                          {"ifname", a.ifname},
                                          {"netns", a.netns}});
        if (*asJson) {
            std::cout << out.dump(2) << "\n";
            return;
        }
        std::cout << "NETWORK\tVERSION\tPLUGINS\tFILE\n";
        for (const auto& n : out["networks"]) {
            std::string plugins;
            for (const auto& t : n["plugins"])
                plugins += (plugins.empty() ? "" : ",") + t.get<std::string>();
            std::cout << n["name"].get<std::string>() << "\t" << n["cniVersion"].get<std::string>()
                      << "\t" << plugins << "\t" << n["file"].get<std::string>() << "\n";
        }
        if (!out["attachments"].empty()) std::cout << "\nNETWORK\tCONTAINER\tIFNAME\tNETNS\n";
        for (const auto& a : out["attachments"])
            std::cout << a["network"].get<std::string>() << "\t"
                      << a["containerId"].get<std::string>() << "\t"
                      << a["ifname"].get<std::string>() << "\t" << a["netns"].get<std::string>()
                      << "\n";
        for (const auto& p : problems)
            std::cerr << "warning: " << p << "\n";
    });
}

void addNetnsCommands(CLI::App& app) {
    auto* netns = app.add_subcommand("netns", "named network namespaces under /run/netns");
    netns->require_subcommand(1);
    auto name = std::make_shared<std::string>();
    auto* add = netns->add_subcommand("add", "create and pin /run/netns/NAME");
    add->add_option("NAME", *name)->required();
    add->callback([name] {
        if (auto st = cni::validateContainerId(*name); !st) failWith(st.error(), false);
        auto ns = net::createPinnedNetns("/run/netns/" + *name, true);
        if (!ns) failWith(ns.error(), false);
    });
    auto* del = netns->add_subcommand("del", "unpin and remove /run/netns/NAME");
    del->add_option("NAME", *name)->required();
    del->callback([name] {
        if (auto st = cni::validateContainerId(*name); !st) failWith(st.error(), false);
        auto gone = net::removePinnedNetns("/run/netns/" + *name);
        if (!gone) failWith(gone.error(), false);
    });
    netns->add_subcommand("ls", "list /run/netns")->callback([] {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec))
            std::cout << e.path().filename().string() << "\n";
    });
}

} // namespace

void addNetCommands(CLI::App& app) {
    auto* net =
        app.add_subcommand("net", "execute CNI network lists as libcni does (cnitool-compatible)");
    net->require_subcommand(1);
    addListCommand(*net, "add", "ADD the network to a netns and print the result");
    addListCommand(*net, "del", "DEL the network from a netns (uses the cached result)");
    addListCommand(*net, "check", "CHECK an attachment against its cached result");
    addListCommand(*net, "status", "STATUS of every plugin of the network");
    addListCommand(*net, "gc", "DEL every cached attachment of the network, then GC the plugins");
    addLs(*net);
    addNetnsCommands(app);
}

} // namespace tether::rt
