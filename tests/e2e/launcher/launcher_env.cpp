#include "launcher_env.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

namespace tether::test {
namespace fs = std::filesystem;

LauncherEnv::LauncherEnv() {
    std::random_device rd;
    std::ostringstream name;
    name << "tether-test-" << std::hex << rd() << rd();
    cgroupParent_ = name.str();
    ::chmod(dir_.path().c_str(), 0711); // user-namespaced containers traverse it
}

LauncherEnv::~LauncherEnv() {
    std::error_code ec;
    if (fs::exists(stateDir(), ec))
        for (const auto& e : fs::directory_iterator(stateDir(), ec))
            (void)tether({"rm", "-f", e.path().filename().string()});
    (void)tether({"gc"});
    ::umount2(netnsDir().c_str(), MNT_DETACH); // the shared self-bind made for netns pins
}

ExecResult LauncherEnv::tether(const std::vector<std::string>& args, int timeoutSec,
                               const std::vector<std::string>& extraEnv) const {
    return execHere(argv(args, extraEnv), timeoutSec);
}

std::vector<std::string> LauncherEnv::argv(const std::vector<std::string>& args,
                                           const std::vector<std::string>& extraEnv) const {
    std::vector<std::string> argv = {"env",
                                     "TETHER_STATE_DIR=" + stateDir(),
                                     "TETHER_LIB_DIR=" + libDir(),
                                     "TETHER_NETNS_DIR=" + netnsDir(),
                                     "TETHER_CGROUP_PARENT=" + cgroupParent_,
                                     "CNI_PATH=" + binDir(),
                                     "CNI_CACHE_DIR=" + (dir_ / "cni-cache"),
                                     "NETCONFPATH=" + (dir_ / "net.d")};
    argv.insert(argv.end(), extraEnv.begin(), extraEnv.end());
    argv.push_back(binDir() + "/tether");
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

ExecResult LauncherEnv::runNone(const std::vector<std::string>& args, int timeoutSec) const {
    std::vector<std::string> full = {"run", "--net", "none"};
    full.insert(full.end(), args.begin(), args.end());
    return tether(full, timeoutSec);
}

std::vector<std::string> LauncherEnv::leftovers() const {
    std::vector<std::string> out;
    std::error_code ec;
    if (fs::exists(stateDir(), ec))
        for (const auto& e : fs::directory_iterator(stateDir(), ec))
            out.push_back("state " + e.path().string());
    if (fs::exists(netnsDir(), ec))
        for (const auto& e : fs::directory_iterator(netnsDir(), ec))
            out.push_back("netns " + e.path().string());
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec)) {
        auto it = fs::recursive_directory_iterator(
            h.path(), fs::directory_options::skip_permission_denied, ec);
        for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) break;
            if (it.depth() > 4) it.disable_recursion_pending();
            if (it->is_directory(ec) && it->path().filename() == cgroupParent_) {
                for (const auto& c : fs::directory_iterator(it->path(), ec))
                    if (c.is_directory()) out.push_back("cgroup " + c.path().string());
                it.disable_recursion_pending();
            }
        }
    }
    std::ifstream mi("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mi, line))
        if (line.find(stateDir()) != std::string::npos) out.push_back("mount " + line);
    return out;
}

std::string LauncherEnv::probe() {
    return LAUNCHER_PROBE;
}

bool eventually(const std::function<bool()>& pred, int ms) {
    for (int i = 0; i < ms / 20; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

} // namespace tether::test
