// runtime_bench: the runtime's own cost per list operation, measured as a runtime embedding the
// library would see it (containerd/CRI-O call libcni in-process the same way).
//
//   runtime_bench --noop CONFDIR PLUGINDIR N     addNetwork+delNetwork of a one-plugin list whose
//                                                plugin does nothing, vs exec'ing that plugin
//                                                directly (cni::execPlugin); overhead = difference
//   runtime_bench --chain CONFDIR NAME PLUGINDIR N   addNetwork of list NAME for N containers (each
//                                                in its own pinned netns, one port mapping each),
//                                                then delNetwork of all
//
// Prints markdown table rows (ms). Run as root inside a scratch net + mount namespace (run.sh).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "bench/common/stats.hpp"
#include "cni/invoke.hpp"
#include "libcni/net_ops.hpp"
#include "libnet/netns.hpp"

using namespace tether;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

using bench::median;
using bench::slice;

[[noreturn]] void die(const std::string& what, const Error& e) {
    std::cerr << what << ": " << e.text() << "\n";
    std::exit(1);
}

std::string pinNetns(const std::string& dir, const std::string& name) {
    std::string path = dir + "/" + name;
    auto ns = net::createPinnedNetns(path);
    if (!ns) die("netns " + path, ns.error());
    return path;
}

int noop(const std::string& confDir, const std::string& pluginDir, int n) {
    rt::NetPaths paths{.configDir = confDir, .cniPath = pluginDir, .cacheDir = confDir + "/cache"};
    auto list = rt::resolveNetwork(paths, "noop");
    if (!list) die("resolve noop", list.error());
    std::string ns = pinNetns(confDir, "noop-ns");
    std::vector<double> exec, add, del;
    for (int i = 0; i < n; ++i) {
        cni::ExecRequest req{.pluginPath = pluginDir + "/noop",
                             .env = {{"CNI_COMMAND", "ADD"},
                                     {"CNI_CONTAINERID", "x"},
                                     {"CNI_NETNS", ns},
                                     {"CNI_IFNAME", "eth0"},
                                     {"CNI_PATH", pluginDir}},
                             .stdinData = R"({"cniVersion":"1.1.0","name":"noop","type":"noop"})"};
        auto t0 = Clock::now();
        auto r = cni::execPlugin(req);
        exec.push_back(ms(Clock::now() - t0));
        if (!r) die("exec noop", r.error());
        rt::RuntimeConf rc{.containerId = "c" + std::to_string(i), .netns = ns};
        t0 = Clock::now();
        auto a = rt::addNetwork(paths, *list, rc);
        add.push_back(ms(Clock::now() - t0));
        if (!a) die("add", a.error());
        t0 = Clock::now();
        auto d = rt::delNetwork(paths, *list, rc);
        del.push_back(ms(Clock::now() - t0));
        if (!d) die("del", d.error());
    }
    std::printf("| exec of the no-op plugin | %d | %.2f |\n", n, median(exec));
    std::printf("| addNetwork, one no-op plugin | %d | %.2f |\n", n, median(add));
    std::printf("| delNetwork, one no-op plugin | %d | %.2f |\n", n, median(del));
    std::printf("| runtime overhead over the exec (ADD) | | %.2f |\n", median(add) - median(exec));
    std::printf("| runtime overhead over the exec (DEL) | | %.2f |\n", median(del) - median(exec));
    (void)net::removePinnedNetns(ns);
    return 0;
}

int chain(const std::string& confDir, const std::string& name, const std::string& pluginDir,
          int n) {
    rt::NetPaths paths{.configDir = confDir, .cniPath = pluginDir, .cacheDir = confDir + "/cache"};
    auto list = rt::resolveNetwork(paths, name);
    if (!list) die("resolve " + name, list.error());
    std::vector<std::string> nss;
    for (int i = 0; i < n; ++i)
        nss.push_back(pinNetns(confDir, "c" + std::to_string(i)));
    auto conf = [&](int i) {
        return rt::RuntimeConf{
            .containerId = "c" + std::to_string(i),
            .netns = nss[size_t(i)],
            .capabilityArgs = {
                {"portMappings",
                 {{{"hostPort", 20000 + i}, {"containerPort", 80}, {"protocol", "tcp"}}}}}};
    };
    std::vector<double> add, del;
    for (int i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        auto a = rt::addNetwork(paths, *list, conf(i));
        add.push_back(ms(Clock::now() - t0));
        if (!a) die("add c" + std::to_string(i), a.error());
    }
    for (int i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        auto d = rt::delNetwork(paths, *list, conf(i));
        del.push_back(ms(Clock::now() - t0));
        if (!d) die("del c" + std::to_string(i), d.error());
    }
    auto row = [&](const char* op, const std::vector<double>& v) {
        double first = median(slice(v, 0, 100)),
               last = median(slice(v, v.size() > 100 ? v.size() - 100 : 0, 100));
        std::printf("| %s %s | %d | %.2f | %.2f | %.2f | %.2f |\n", name.c_str(), op, n, median(v),
                    first, last, first > 0 ? last / first : 0);
    };
    row("ADD", add);
    row("DEL", del);
    for (const auto& ns : nss)
        (void)net::removePinnedNetns(ns);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 4 && a[0] == "--noop") return noop(a[1], a[2], std::stoi(a[3]));
    if (a.size() == 5 && a[0] == "--chain") return chain(a[1], a[2], a[3], std::stoi(a[4]));
    std::cerr
        << "usage: runtime_bench --noop CONFDIR PLUGINDIR N | --chain CONFDIR NAME PLUGINDIR N\n";
    return 2;
}
