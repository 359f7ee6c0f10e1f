// cni_bench: ADD then DEL of a network list for N containers, each in its own pinned netns,
// timing only the plugin execs. Run it once per implementation (ours, the reference, the no-op
// floor) in the same session — bench/cni/run.sh does — and compare the printed rows.
//
//   cni_bench --chain FILE --plugins DIR --label NAME --count N [--bridge BR] [--subnet CIDR]
//             [--ports] [--netns-dir DIR] [--data-dir DIR]
//     --netns-dir: where the containers' netns are pinned (default: the work dir); run.sh gives
//     a tmpfs, as /run/netns is on a real host, so the pins' file churn on the work dir's
//     filesystem does not weigh on the IPAM files of either implementation.
//     --data-dir: the host-local dataDir (default: <work dir>/ipam); run.sh gives each phase a
//     fresh filesystem.
//   cni_bench --veth-floor N        kernel time of deleting a veth whose peer is in a netns
//
// Must run as root inside a scratch network + mount namespace (run.sh uses unshare).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/cni/chain_runner.hpp"
#include "bench/cni/chain_setup.hpp"
#include "bench/common/driver.hpp"
#include "bench/common/stats.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"
#include "libnet/veth.hpp"

using namespace tether;
using nlohmann::json;

namespace {

struct Options {
    bench::ChainOptions chain{.bridge = "benchbr0", .subnet = "10.99.0.0/16", .count = 100};
    int vethFloor = 0; ///< --veth-floor N: time the kernel's veth deletion instead
};

using bench::lineCount;
using bench::median;
using bench::slice;
using bench::slug;

// One row: median of all, of the first and last 100, and last/first growth.
std::string row(const std::string& label, const std::string& op, const std::vector<double>& ms) {
    std::ostringstream o;
    o.setf(std::ios::fixed);
    o.precision(2);
    double first = median(slice(ms, 0, 100));
    double last = median(slice(ms, ms.size() > 100 ? ms.size() - 100 : 0, 100));
    o << "| " << label << " | " << op << " | " << ms.size() << " | " << median(ms) << " | " << first
      << " | " << last << " | " << (first > 0 ? last / first : 0) << " |";
    return o.str();
}

// Fraction of CPU time idle over `window`, from /proc/stat's aggregate line.
double idleFraction(std::chrono::milliseconds window) {
    auto sample = [] {
        std::ifstream f("/proc/stat");
        std::string cpu;
        unsigned long long v, total = 0, idle = 0;
        f >> cpu;
        for (int i = 0; i < 8 && f >> v; ++i) {
            total += v;
            if (i == 3 || i == 4) idle += v; // idle, iowait
        }
        return std::pair{idle, total};
    };
    auto [i0, t0] = sample();
    std::this_thread::sleep_for(window);
    auto [i1, t1] = sample();
    return t1 > t0 ? double(i1 - i0) / double(t1 - t0) : 1.0;
}

// Waits (up to 30 s) until the machine is idle, so that work left by a previous run — the
// kernel destroying a thousand network namespaces in the background — or another process does
// not land in this run's first operations. Returns the idle fraction reached.
// Flushes dirty data first: on an ext4 without a journal, inodes freed while their inode-table
// block is still dirty are skipped by every new-inode search for minutes, so one run's IPAM file
// churn would slow the next run's file creation (see docs/plugins/host-local.md).
double waitForQuiet() {
    ::sync();
    // Four quiet windows in a row (1 s): the kernel destroys the previous phase's namespaces in
    // bursts, with idle gaps between them.
    double idle = 0;
    for (int i = 0, quiet = 0; i < 240 && quiet < 4; ++i)
        quiet = (idle = idleFraction(std::chrono::milliseconds(250))) >= 0.9 ? quiet + 1 : 0;
    return idle;
}

int vethFloor(int n) {
    (void)waitForQuiet();
    auto dir = std::string("/tmp/cni-bench-veth");
    std::filesystem::create_directories(dir);
    auto ns = net::createPinnedNetns(dir + "/ns");
    if (!ns) return std::cerr << ns.error().text() << "\n", 1;
    auto host = net::NetlinkSocket::open();
    auto csock = net::NetlinkSocket::openIn(*ns);
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
        auto pair =
            net::createVeth(*host, *csock, {.containerName = "eth0", .containerNetns = &*ns});
        if (!pair) return std::cerr << pair.error().text() << "\n", 1;
        auto t0 = std::chrono::steady_clock::now();
        (void)net::deleteLink(*host, pair->host.index);
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    (void)net::removePinnedNetns(dir + "/ns");
    std::filesystem::remove_all(dir);
    std::cout << row("kernel veth delete", "DEL", ms) << "\n";
    return 0;
}

int runChain(const bench::ChainOptions& o) {
    std::string work = "/tmp/cni-bench-" + slug(o.label);
    std::filesystem::remove_all(work);
    const std::string nsDir = o.netnsDir.empty() ? work + "/ns" : o.netnsDir + "/" + slug(o.label);
    json list = bench::loadChain(o, o.dataDir.empty() ? work + "/ipam" : o.dataDir);
    auto pins = bench::ContainerNetns::create(nsDir, o.count);
    if (!pins) return std::cerr << pins.error().text() << "\n", 1;
    // Container i: its netns, and with --ports one mapping host port 20000+i -> 80/tcp.
    auto callFor = [&](int i) { return bench::containerCall(o, pins->path(i), i); };
    std::vector<double> addMs, delMs;
    std::vector<json> results;
    double idleAdd = waitForQuiet();
    for (int i = 0; i < o.count; ++i) {
        bench::ChainCall call = callFor(i);
        auto t = bench::chainAdd(list, call);
        if (!t) return std::cerr << "ADD " << i << ": " << t.error().text() << "\n", 1;
        addMs.push_back(t->ms);
        results.push_back(t->result);
    }
    size_t nftLines = lineCount("nft list ruleset 2>/dev/null");
    size_t iptLines = lineCount("(iptables-save; ip6tables-save) 2>/dev/null | grep -v '^#'");
    double idleDel = waitForQuiet();
    for (int i = 0; i < o.count; ++i) {
        bench::ChainCall call = callFor(i);
        auto t = bench::chainDel(list, call, results[size_t(i)]);
        if (!t) return std::cerr << "DEL " << i << ": " << t.error().text() << "\n", 1;
        delMs.push_back(t->ms);
    }
    pins->removeAll();
    std::filesystem::remove_all(work);
    std::cout << row(o.label, "ADD", addMs) << "\n" << row(o.label, "DEL", delMs) << "\n";
    std::cout << "<!-- " << o.label << " ruleset at " << o.count << " containers: nft " << nftLines
              << " lines, iptables " << iptLines << " lines; CPU idle before ADD "
              << int(idleAdd * 100) << "%, before DEL " << int(idleDel * 100) << "% -->\n";
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    auto extra = [&](const std::string& a, const std::function<std::string()>& next) {
        if (a != "--veth-floor") return false;
        o.vethFloor = std::stoi(next());
        return true;
    };
    if (!bench::parseChainArgs(argc, argv, o.chain, extra)) return 2;
    if (o.vethFloor > 0) return vethFloor(o.vethFloor);
    if (o.chain.chain.empty() || o.chain.plugins.empty())
        return std::cerr << "need --chain and --plugins\n", 2;
    return runChain(o.chain);
}
