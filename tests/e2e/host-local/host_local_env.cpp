#include "tests/e2e/host-local/host_local_env.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "libnet/ip.hpp"

namespace tether::test::hostlocal {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ours() {
    return binDir() + "/host-local";
}

std::string reference() {
    const char* p = "/usr/lib/cni/host-local";
    return ::access(p, X_OK) == 0 ? p : "";
}

PluginRun run(const std::string& binary, const Call& call, const json& conf) {
    std::vector<std::pair<std::string, std::string>> env = {
        {"CNI_CONTAINERID", call.containerId}, {"CNI_NETNS", "/proc/self/ns/net"},
        {"CNI_NETNS_OVERRIDE", "1"},           {"CNI_IFNAME", call.ifname},
        {"CNI_PATH", "/usr/lib/cni"},
    };
    if (!call.cniArgs.empty()) env.emplace_back("CNI_ARGS", call.cniArgs);
    return runPlugin(binary, call.command, env, conf.dump());
}

json config(const std::string& dataDir, json ipam, const std::string& version,
            const std::string& net) {
    ipam["type"] = "host-local";
    ipam["dataDir"] = dataDir;
    return json{{"cniVersion", version}, {"name", net}, {"type", "bridge"}, {"ipam", ipam}};
}

std::vector<std::string> leaseFiles(const fs::path& dataDir, const std::string& net) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dataDir / net, ec))
        if (net::IpAddress::parse(e.path().filename().string()))
            out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::string readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json normalized(json result) {
    if (result.contains("dns") && result["dns"].empty()) result.erase("dns");
    return result;
}

std::vector<std::pair<int, std::string>>
parallelAdds(int n, const std::vector<std::string>& binaries, const json& conf) {
    TempDir io;
    const std::string input = io / "stdin";
    { std::ofstream(input) << conf.dump(); }
    std::vector<pid_t> pids;
    for (int i = 0; i < n; ++i) {
        const std::string bin = binaries[size_t(i) % binaries.size()];
        const std::string out = io / ("out" + std::to_string(i));
        const std::string id = "CNI_CONTAINERID=p" + std::to_string(i);
        pid_t pid = ::fork();
        if (pid == 0) {
            int in = ::open(input.c_str(), O_RDONLY);
            int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (in < 0 || o < 0) ::_exit(127);
            ::dup2(in, 0);
            ::dup2(o, 1);
            const char* argv[] = {bin.c_str(), nullptr};
            const char* envp[] = {"CNI_COMMAND=ADD",
                                  id.c_str(),
                                  "CNI_NETNS=/proc/self/ns/net",
                                  "CNI_NETNS_OVERRIDE=1",
                                  "CNI_IFNAME=eth0",
                                  "CNI_PATH=/usr/lib/cni",
                                  nullptr};
            ::execve(bin.c_str(), const_cast<char**>(argv), const_cast<char**>(envp));
            ::_exit(127);
        }
        pids.push_back(pid);
    }
    std::vector<std::pair<int, std::string>> results;
    for (int i = 0; i < n; ++i) {
        int status = 0;
        while (::waitpid(pids[size_t(i)], &status, 0) < 0 && errno == EINTR) {
        }
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        results.emplace_back(code, readFile(io / ("out" + std::to_string(i))));
    }
    return results;
}

} // namespace tether::test::hostlocal
