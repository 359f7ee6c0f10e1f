#include "plugins/tuning/state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tether::tuning {

using nlohmann::json;

namespace {

// mkdir -p with mode 0700 for the directories it creates.
Status makeDirs(const std::string& dir) {
    std::string cur;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        cur = dir.substr(0, pos);
        if (cur.empty()) continue;
        if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST)
            return failErrno("create directory " + cur, errno, Code::IoFailure);
    }
    return {};
}

json toJson(const Saved& s) {
    json j = json::object();
    if (!s.mac.empty()) j["mac"] = s.mac;
    if (s.promisc) j["promisc"] = *s.promisc;
    if (s.mtu) j["mtu"] = s.mtu;
    if (s.allmulti) j["allmulti"] = *s.allmulti;
    if (s.txQLen) j["txQLen"] = *s.txQLen;
    if (!s.sysctls.empty()) {
        json m = json::object();
        for (const auto& [k, v] : s.sysctls)
            m[k] = v;
        j["sysctl"] = m;
    }
    if (!s.network.empty()) j["network"] = s.network;
    if (!s.containerId.empty()) j["containerID"] = s.containerId;
    if (!s.ifname.empty()) j["ifname"] = s.ifname;
    return j;
}

} // namespace

Status writeSaved(const std::string& path, const Saved& s) {
    auto slash = path.rfind('/');
    TRY(makeDirs(path.substr(0, slash)));
    std::string tmp = path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".tmp" +
                      std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return failErrno("create " + tmp, errno, Code::IoFailure);
    std::string data = toJson(s).dump(1) + "\n";
    ssize_t n = ::write(fd, data.data(), data.size());
    int err = errno;
    bool ok = n == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
    if (!ok && n >= 0) err = errno ? errno : EIO;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        if (ok) err = errno;
        ::unlink(tmp.c_str());
        return failErrno("write " + path, err, Code::IoFailure);
    }
    return {};
}

Expected<std::optional<Saved>> readSaved(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::optional<Saved>();
    if (fd < 0) return failErrno("open " + path, errno, Code::IoFailure);
    std::string data;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;)
        data.append(buf, size_t(n));
    ::close(fd);
    json j = json::parse(data, nullptr, false);
    if (!j.is_object())
        return fail(Code::DecodeFailure, "state file " + path + " is not a JSON object");
    Saved s;
    auto str = [&](const char* k) {
        return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
    };
    s.mac = str("mac");
    s.network = str("network");
    s.containerId = str("containerID");
    s.ifname = str("ifname");
    if (j.contains("promisc") && j["promisc"].is_boolean()) s.promisc = j["promisc"].get<bool>();
    if (j.contains("allmulti") && j["allmulti"].is_boolean())
        s.allmulti = j["allmulti"].get<bool>();
    if (j.contains("mtu") && j["mtu"].is_number_unsigned()) s.mtu = j["mtu"].get<uint32_t>();
    if (j.contains("txQLen") && j["txQLen"].is_number_unsigned())
        s.txQLen = j["txQLen"].get<uint32_t>();
    if (j.contains("sysctl") && j["sysctl"].is_object())
        for (const auto& [k, v] : j["sysctl"].items())
            if (v.is_string()) s.sysctls.emplace_back(k, v.get<std::string>());
    return std::optional<Saved>(std::move(s));
}

Expected<bool> removeSaved(const std::string& path) {
    if (::unlink(path.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    return failErrno("remove " + path, errno, Code::IoFailure);
}

} // namespace tether::tuning
