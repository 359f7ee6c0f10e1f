// dp_net: attaches N containers to a network list and leaves them attached (the data-path bench
// measures traffic through them), then detaches them in a second call. Container i gets the
// netns <netns-dir>/c<i> and, with --ports, one mapping host port <port-base>+i -> 8080/tcp.
//
//   dp_net add --list FILE --plugins DIR --count N --netns-dir DIR --state FILE
//              [--ports] [--port-base P]
//     Pins the netns, runs the list's ADD for each container in order (libcni's prevResult
//     chaining, bench/cni/chain_runner), writes one JSON line per container to FILE (id, netns,
//     address, port mappings, result) and the netns paths to FILE.netns. Prints the median ADD.
//   dp_net del --list FILE --plugins DIR --state FILE
//     DEL of every container in FILE in reverse order, then unpins its netns. Prints the median.
//
// Must run as root inside a scratch network + mount namespace (bench/datapath/run.sh).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/cni/chain_runner.hpp"
#include "bench/common/stats.hpp"
#include "libnet/netns.hpp"

using namespace tether;
using nlohmann::json;

namespace {

struct Options {
    std::string cmd, list, plugins, netnsDir, state;
    int count = 10;
    int portBase = 20000;
    bool ports = false;
};

int usage() {
    std::cerr << "usage: dp_net add --list FILE --plugins DIR --count N --netns-dir DIR --state "
                 "FILE [--ports] [--port-base P]\n       dp_net del --list FILE --plugins DIR "
                 "--state FILE\n";
    return 2;
}

Expected<json> readJson(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(Code::IoFailure, "cannot read " + path);
    return json::parse(in, nullptr, false);
}

// The container's IPv4 address (without prefix) from a CNI 1.0 result.
std::string firstAddress(const json& result) {
    for (const auto& ip : result.value("ips", json::array())) {
        std::string a = ip.value("address", "");
        if (a.find('.') != std::string::npos) return a.substr(0, a.find('/'));
    }
    return "";
}

int cmdAdd(const Options& o, const json& list) {
    std::ofstream state(o.state), paths(o.state + ".netns");
    std::vector<double> ms;
    for (int i = 0; i < o.count; ++i) {
        std::string ns = o.netnsDir + "/c" + std::to_string(i);
        if (auto pinned = net::createPinnedNetns(ns); !pinned) {
            std::cerr << "dp_net: netns " << ns << ": " << pinned.error().msg << "\n";
            return 1;
        }
        bench::ChainCall call{
            .pluginDir = o.plugins, .containerId = "dp" + std::to_string(i), .netns = ns};
        json maps = json::array();
        if (o.ports)
            maps.push_back(
                {{"hostPort", o.portBase + i}, {"containerPort", 8080}, {"protocol", "tcp"}});
        call.capabilityArgs = {{"portMappings", maps}};
        auto t = bench::chainAdd(list, call);
        if (!t) {
            std::cerr << "dp_net: ADD " << call.containerId << ": " << t.error().msg << "\n";
            return 1;
        }
        ms.push_back(t->ms);
        state << json{{"id", call.containerId},
                      {"netns", ns},
                      {"address", firstAddress(t->result)},
                      {"portMappings", maps},
                      {"result", t->result}}
                     .dump()
              << "\n";
        paths << ns << "\n";
    }
    std::printf("add count=%d median_ms=%.2f\n", o.count, bench::median(ms));
    return 0;
}

int cmdDel(const Options& o, const json& list) {
    std::ifstream in(o.state);
    std::vector<json> rows;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) rows.push_back(json::parse(line));
    std::vector<double> ms;
    int failures = 0;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
        bench::ChainCall call{.pluginDir = o.plugins,
                              .containerId = (*it)["id"].get<std::string>(),
                              .netns = (*it)["netns"].get<std::string>()};
        call.capabilityArgs = {{"portMappings", (*it)["portMappings"]}};
        auto t = bench::chainDel(list, call, (*it)["result"]);
        if (!t) {
            std::cerr << "dp_net: DEL " << call.containerId << ": " << t.error().msg << "\n";
            ++failures;
        } else {
            ms.push_back(t->ms);
        }
        (void)net::removePinnedNetns(call.netns);
    }
    std::printf("del count=%zu median_ms=%.2f failures=%d\n", rows.size(), bench::median(ms),
                failures);
    return failures ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    Options o;
    o.cmd = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--list")
            o.list = next();
        else if (a == "--plugins")
            o.plugins = next();
        else if (a == "--netns-dir")
            o.netnsDir = next();
        else if (a == "--state")
            o.state = next();
        else if (a == "--count")
            o.count = std::stoi(next());
        else if (a == "--port-base")
            o.portBase = std::stoi(next());
        else if (a == "--ports")
            o.ports = true;
        else
            return usage();
    }
    if (o.list.empty() || o.plugins.empty() || o.state.empty()) return usage();
    auto list = readJson(o.list);
    if (!list || list->is_discarded()) {
        std::cerr << "dp_net: bad list " << o.list << "\n";
        return 2;
    }
    if (o.cmd == "add" && !o.netnsDir.empty()) return cmdAdd(o, *list);
    if (o.cmd == "del") return cmdDel(o, *list);
    return usage();
}
