// plugin_rusage: peak RSS and CPU time (user + sys) of each plugin process per ADD and DEL.
// For R containers it runs the chain bridge(ipMasq, host-local) -> portmap -> firewall -> tuning
// -> bandwidth with prevResult chaining, DEL in reverse, plus loopback and host-local on its own
// (stdin = the bridge's config, as bridge delegates it). Every plugin exec happens in a fresh
// through cni::execPluginRaw (the runtime's exec path) and rusage_exec, a tiny static wrapper that
// vforks the plugin and reads wait4's rusage: the plugin's ru_maxrss and CPU time, including the
// children it waited for (bridge's delegated host-local), excluding detached helpers.
//
//   plugin_rusage --plugins DIR --label NAME --count R --netns-dir DIR --data-dir DIR
// Prints one TSV line per plugin and op: label plugin op median_maxrss_kib median_cpu_ms.
// Must run as root inside a scratch network + mount namespace (bench/memory/run.sh).
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/common/stats.hpp"
#include "cni/invoke.hpp"
#include "libnet/netns.hpp"

using namespace tether;
using nlohmann::json;

namespace {

std::string g_rusageExec; ///< bench/memory/rusage_exec, beside this driver

struct Usage {
    long maxrssKib = 0;
    double cpuMs = 0;
    int exitCode = -1;
    std::string out;
};

// Runs one plugin exec through rusage_exec (beside this driver) and returns the plugin's
// resource usage (wait4) and stdout.
Usage measure(cni::ExecRequest req, const std::string& outFile) {
    std::string target = req.pluginPath;
    req.pluginPath = g_rusageExec;
    req.env.push_back({"RUSAGE_TARGET", target});
    req.env.push_back({"RUSAGE_OUT", outFile});
    (void)unlink(outFile.c_str());
    auto r = cni::execPluginRaw(req);
    Usage u;
    if (!r) {
        u.out = r.error().msg;
        return u;
    }
    u.exitCode = r->exitCode;
    u.out = r->out + (r->exitCode ? r->err : "");
    if (FILE* f = std::fopen(outFile.c_str(), "r")) {
        int code = 0;
        if (std::fscanf(f, "%ld %lf %d", &u.maxrssKib, &u.cpuMs, &code) != 3) u.exitCode = -1;
        std::fclose(f);
    }
    return u;
}

struct Options {
    std::string plugins, label, netnsDir, dataDir;
    int count = 10;
};

json chainConfs(const Options& o) {
    json ipam = {{"type", "host-local"},
                 {"ranges", {{{{"subnet", "10.77.0.0/16"}}}}},
                 {"dataDir", o.dataDir}};
    return json::array({{{"type", "bridge"},
                         {"bridge", "membr0"},
                         {"isGateway", true},
                         {"ipMasq", true},
                         {"ipam", ipam}},
                        {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}},
                        {{"type", "firewall"}},
                        {{"type", "tuning"}, {"sysctl", {{"net.ipv4.conf.eth0.rp_filter", "1"}}}},
                        {{"type", "bandwidth"},
                         {"ingressRate", 100000000},
                         {"ingressBurst", 1000000},
                         {"egressRate", 100000000},
                         {"egressBurst", 1000000}}});
}

std::map<std::string, std::vector<Usage>> g_rows; // "plugin\top" -> samples

bool run(const Options& o, json conf, const std::string& cmd, const std::string& id,
         const std::string& ns, int port, const json* prev, json* result,
         const std::string& as = "") {
    conf["cniVersion"] = "1.0.0";
    conf["name"] = "memnet";
    if (prev) conf["prevResult"] = *prev;
    if (conf.contains("capabilities"))
        conf["runtimeConfig"] = {
            {"portMappings", {{{"hostPort", port}, {"containerPort", 80}, {"protocol", "tcp"}}}}};
    std::string type = conf.contains("ipam") && as == "host-local" ? "host-local" : conf["type"];
    cni::ExecRequest req;
    req.pluginPath = o.plugins + "/" + type;
    req.env = {{"CNI_COMMAND", cmd},
               {"CNI_CONTAINERID", id},
               {"CNI_NETNS", ns},
               {"CNI_IFNAME", "eth0"},
               {"CNI_PATH", o.plugins}};
    req.stdinData = conf.dump();
    Usage u = measure(req, o.netnsDir + "/rusage.out");
    if (u.exitCode != 0) {
        std::cerr << o.label << " " << type << " " << cmd << " failed: " << u.out << "\n";
        return false;
    }
    if (result && !u.out.empty()) *result = json::parse(u.out, nullptr, false);
    g_rows[type + "\t" + cmd].push_back(u);
    return true;
}

int runAll(const Options& o) {
    json confs = chainConfs(o);
    int failures = 0;
    for (int i = 0; i < o.count; ++i) {
        std::string id = o.label + "-m" + std::to_string(i);
        std::string ns = o.netnsDir + "/" + id;
        if (!net::createPinnedNetns(ns)) return 1;
        // the chain, ADD in order with prevResult, DEL in reverse with the final result
        json prev;
        bool have = false;
        for (const auto& c : confs) {
            json res;
            if (!run(o, c, "ADD", id, ns, 30000 + i, have ? &prev : nullptr, &res)) {
                ++failures;
                break;
            }
            prev = res;
            have = true;
        }
        for (auto it = confs.rbegin(); it != confs.rend(); ++it)
            failures += !run(o, *it, "DEL", id, ns, 30000 + i, &prev, nullptr);
        // loopback, and host-local on its own as bridge delegates it (the bridge's config)
        failures += !run(o, {{"type", "loopback"}}, "ADD", id, ns, 0, nullptr, nullptr);
        failures += !run(o, {{"type", "loopback"}}, "DEL", id, ns, 0, nullptr, nullptr);
        std::string hid = id + "-ipam";
        failures += !run(o, confs[0], "ADD", hid, ns, 0, nullptr, nullptr, "host-local");
        failures += !run(o, confs[0], "DEL", hid, ns, 0, nullptr, nullptr, "host-local");
        (void)net::removePinnedNetns(ns);
    }
    for (const auto& [key, us] : g_rows) {
        std::vector<double> rss, cpu;
        for (const auto& u : us) {
            rss.push_back(double(u.maxrssKib));
            cpu.push_back(u.cpuMs);
        }
        std::printf("%s\t%s\t%.0f\t%.2f\n", o.label.c_str(), key.c_str(), bench::median(rss),
                    bench::median(cpu));
    }
    return failures ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    g_rusageExec = std::string(self).substr(0, std::string(self).rfind('/')) + "/rusage_exec";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--plugins")
            o.plugins = next();
        else if (a == "--label")
            o.label = next();
        else if (a == "--netns-dir")
            o.netnsDir = next();
        else if (a == "--data-dir")
            o.dataDir = next();
        else if (a == "--count")
            o.count = std::stoi(next());
        else {
            std::cerr << "usage: plugin_rusage --plugins DIR --label NAME --count R --netns-dir "
                         "DIR --data-dir DIR\n";
            return 2;
        }
    }
    return runAll(o);
}
