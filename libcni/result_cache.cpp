#include "libcni/result_cache.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "base/digest.hpp"
#include "base/file.hpp"
#include "base/unique_fd.hpp"
#include "cni/json_limits.hpp"

namespace tether::rt {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// Cache files are regular files of ours, never followed through a symlink; 4 MiB is the
// plugins' stdin cap and so far above any result.
constexpr ReadFileOptions kCacheRead{
    .maxBytes = 4 << 20, .followSymlinks = false, .missingOk = true};

Expected<CachedAttachment> decode(const json& j, const std::string& network,
                                  const std::string& containerId, const std::string& ifname) {
    CachedAttachment a;
    a.network = network;
    a.containerId = containerId;
    a.ifname = ifname;
    if (j.value("kind", "") != "cniCacheV1") {
        a.result = j; // legacy: the bare result
    } else {
        a.network = j.value("networkName", network);
        a.containerId = j.value("containerId", containerId);
        a.ifname = j.value("ifName", ifname);
        a.netns = j.value("netns", "");
        if (auto c = j.find("config"); c != j.end() && c->is_string())
            a.config = base64Decode(c->get<std::string>()).value_or("");
        if (auto args = j.find("cniArgs"); args != j.end() && args->is_array())
            for (const auto& p : *args)
                if (p.is_array() && p.size() == 2 && p[0].is_string() && p[1].is_string())
                    a.rt.args.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
        if (auto caps = j.find("capabilityArgs"); caps != j.end() && caps->is_object())
            a.rt.capabilityArgs = *caps;
        if (auto r = j.find("result"); r != j.end() && r->is_object()) a.result = *r;
    }
    a.rt.containerId = a.containerId;
    a.rt.ifname = a.ifname;
    a.rt.netns = a.netns;
    return a;
}
} // namespace

std::string cachePath(const std::string& cacheDir, const std::string& network,
                      const std::string& containerId, const std::string& ifname) {
    return cacheDir + "/results/" + network + "-" + containerId + "-" + ifname;
}

Status writeCache(const std::string& cacheDir, const NetworkList& list, const RuntimeConf& rt,
                  const json& result) {
    std::string dir = cacheDir + "/results";
    std::error_code ec;
    fs::create_directories(dir, ec);
    // The results dir itself must not be a symlink (a chmod or write through it would land
    // wherever it points); the mode is set on the opened directory.
    UniqueFd dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dirFd) return failErrno("open cache dir " + dir, errno, Code::IoFailure);
    ::fchmod(dirFd.get(), 0700);
    json args = json::array();
    for (const auto& [k, v] : rt.args)
        args.push_back(json::array({k, v}));
    json entry = {{"kind", "cniCacheV1"},
                  {"containerId", rt.containerId},
                  {"config", base64Encode(list.bytes)},
                  {"ifName", rt.ifname},
                  {"networkName", list.name},
                  {"netns", rt.netns},
                  {"cniArgs", args},
                  {"capabilityArgs", rt.capabilityArgs},
                  {"result", result}};
    std::string path = cachePath(cacheDir, list.name, rt.containerId, rt.ifname);
    std::string tmp = path + ".tmp" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return failErrno("write cache " + tmp, errno, Code::IoFailure);
    std::string text = entry.dump();
    bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return failErrno("write cache " + path, err, Code::IoFailure);
    }
    return {};
}

Expected<std::optional<CachedAttachment>> readCache(const std::string& cacheDir,
                                                    const std::string& network,
                                                    const std::string& containerId,
                                                    const std::string& ifname) {
    std::string path = cachePath(cacheDir, network, containerId, ifname);
    auto text = TRY(readRegularFile(path, "read result cache", kCacheRead));
    if (!text) return std::optional<CachedAttachment>{};
    TRY(cni::checkJsonText(*text, "corrupt result cache " + path));
    json j = json::parse(*text, nullptr, false);
    if (!j.is_object()) return fail(Code::DecodeFailure, "corrupt result cache " + path);
    return std::optional(TRY(decode(j, network, containerId, ifname)));
}

void removeCache(const std::string& cacheDir, const std::string& network,
                 const std::string& containerId, const std::string& ifname) {
    const std::string path = cachePath(cacheDir, network, containerId, ifname);
    ::unlink(path.c_str());
    pruneCacheTemps(cacheDir, fs::path(path).filename().string());
}

void pruneCacheTemps(const std::string& cacheDir, const std::string& prefix) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cacheDir + "/results", ec)) {
        const std::string name = e.path().filename().string();
        const auto at = name.rfind(".tmp");
        if (at == std::string::npos || !name.starts_with(prefix)) continue;
        const std::string pid = name.substr(at + 4);
        if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != pid.npos)
            continue;
        if (::kill(std::stoi(pid), 0) == 0 || errno != ESRCH) continue; // writer still there
        if (e.is_regular_file(ec) && !e.is_symlink(ec)) ::unlink(e.path().c_str());
    }
}

std::vector<CachedAttachment> listCache(const std::string& cacheDir, const std::string& network) {
    std::vector<CachedAttachment> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cacheDir + "/results", ec)) {
        // A FIFO, symlink, device or oversized file here is not ours: skipped, never opened
        // in a way that could block.
        auto text = readRegularFile(e.path().string(), "read result cache", kCacheRead);
        if (!text) continue;
        const std::optional<std::string>& body = *text;
        if (!body || !cni::checkJsonText(*body, "")) continue;
        json j = json::parse(*body, nullptr, false);
        if (!j.is_object() || j.value("kind", "") != "cniCacheV1") continue;
        auto a = decode(j, "", "", "");
        if (!a || (!network.empty() && a->network != network)) continue;
        out.push_back(std::move(*a));
    }
    return out;
}

} // namespace tether::rt
