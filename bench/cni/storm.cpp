// storm: the pod-start storm after a node reboot. ADD of N containers with K operations in
// flight at once (the runtime restarts every pod together), then DEL of all of them the same
// way, through one network list; reports the storm's wall time, p50/p99 per operation,
// failures, duplicate addresses and what is left afterwards. Run once per implementation in the
// same session (bench/cni/storm.sh does).
//
//   storm --chain FILE --plugins DIR --label NAME --count N --concurrency K [--ports]
//         [--bridge BR] [--subnet CIDR] [--netns-dir DIR] [--data-dir DIR]
//
// Must run as root inside a scratch network + mount namespace (storm.sh uses unshare).
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/cni/chain_runner.hpp"
#include "bench/cni/chain_setup.hpp"
#include "bench/common/driver.hpp"
#include "bench/common/stats.hpp"

using namespace tether;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    bench::ChainOptions chain{.bridge = "stormbr0", .subnet = "10.96.0.0/16", .count = 110};
    int concurrency = 8;
};

using bench::lineCount;
using bench::percentile;
using bench::slug;

struct Phase {
    double wallSec = 0;
    std::vector<double> ms;
    std::vector<std::string> failures;
};

// Runs op(i) for i in [0, n) on k threads; times each call and the whole phase.
template <class Op> Phase runPhase(int n, int k, Op op) {
    Phase ph;
    ph.ms.resize(size_t(n), 0);
    std::atomic<int> next{0};
    std::mutex mu;
    auto t0 = Clock::now();
    std::vector<std::thread> workers;
    for (int w = 0; w < k; ++w)
        workers.emplace_back([&] {
            for (int i; (i = next.fetch_add(1)) < n;) {
                auto s = Clock::now();
                std::string err = op(i);
                ph.ms[size_t(i)] =
                    std::chrono::duration<double, std::milli>(Clock::now() - s).count();
                if (!err.empty()) {
                    std::lock_guard lock(mu);
                    ph.failures.push_back(std::to_string(i) + ": " + err);
                }
            }
        });
    for (auto& t : workers)
        t.join();
    ph.wallSec = std::chrono::duration<double>(Clock::now() - t0).count();
    return ph;
}

int run(const bench::ChainOptions& o, int concurrency) {
    std::string work = "/tmp/cni-storm-" + slug(o.label);
    std::filesystem::remove_all(work);
    std::string dataDir = o.dataDir.empty() ? work + "/ipam" : o.dataDir;
    std::string nsDir = (o.netnsDir.empty() ? work : o.netnsDir) + "/" + slug(o.label) + "-ns";
    json list = bench::loadChain(o, dataDir);
    auto pins = bench::ContainerNetns::create(nsDir, o.count);
    if (!pins) return std::cerr << pins.error().text() << "\n", 1;
    auto callFor = [&](int i) { return bench::containerCall(o, pins->path(i), i); };
    size_t rulesBefore = lineCount("(nft list ruleset; iptables-save; ip6tables-save) 2>/dev/null");
    std::vector<json> results(size_t(o.count));
    Phase add = runPhase(o.count, concurrency, [&](int i) -> std::string {
        auto t = bench::chainAdd(list, callFor(i));
        if (!t) return t.error().text().substr(0, 300);
        results[size_t(i)] = t->result;
        return "";
    });
    std::map<std::string, int> seen;
    int duplicates = 0;
    for (const auto& r : results)
        for (const auto& ip : r.value("ips", json::array()))
            duplicates += seen[ip.value("address", "")]++ > 0;
    Phase del = runPhase(o.count, concurrency, [&](int i) -> std::string {
        if (results[size_t(i)].is_null()) return "";
        auto t = bench::chainDel(list, callFor(i), results[size_t(i)]);
        return t ? "" : t.error().text().substr(0, 300);
    });
    size_t leases = 0;
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(dataDir + "/" + list.value("name", ""), ec))
        leases += std::isdigit(static_cast<unsigned char>(e.path().filename().string()[0])) ||
                  e.path().filename().string().find(':') != std::string::npos;
    size_t veths = lineCount("ip -o link show type veth 2>/dev/null");
    size_t rulesAfter = lineCount("(nft list ruleset; iptables-save; ip6tables-save) 2>/dev/null");
    pins->removeAll();
    std::filesystem::remove_all(work);
    std::printf("| %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %zu | %d | %zu / %zu / "
                "%+ld |\n",
                o.label.c_str(), o.count, concurrency, add.wallSec, bench::median(add.ms),
                percentile(add.ms, 0.99), del.wallSec, bench::median(del.ms),
                percentile(del.ms, 0.99), add.failures.size() + del.failures.size(), duplicates,
                leases, veths, long(rulesAfter) - long(rulesBefore));
    for (const auto& f : add.failures)
        std::printf("<!-- %s ADD failure %s -->\n", o.label.c_str(), f.c_str());
    for (const auto& f : del.failures)
        std::printf("<!-- %s DEL failure %s -->\n", o.label.c_str(), f.c_str());
    std::fflush(stdout);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    auto extra = [&](const std::string& a, const std::function<std::string()>& next) {
        if (a != "--concurrency") return false;
        o.concurrency = std::max(1, std::stoi(next()));
        return true;
    };
    if (!bench::parseChainArgs(argc, argv, o.chain, extra)) return 2;
    if (o.chain.chain.empty() || o.chain.plugins.empty())
        return std::cerr << "need --chain and --plugins\n", 2;
    return run(o.chain, o.concurrency);
}
