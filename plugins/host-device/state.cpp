#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/file.hpp"
#include "base/unique_fd.hpp"
#include "cni/json_limits.hpp"
#include "plugins/host-device/host_device.hpp"

namespace tether::hostdevice {

using nlohmann::json;

namespace {

// mkdir -p, 0700 for what it creates.
Status makeDirs(const std::string& dir) {
    for (size_t pos = 1; pos != std::string::npos;) {
        pos = dir.find('/', pos + 1);
        std::string cur = dir.substr(0, pos);
        if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST)
            return failErrno("create directory " + cur, errno, Code::IoFailure);
    }
    return {};
}

} // namespace

Status writeSaved(const std::string& path, const Saved& s) {
    json j = {{"network", s.network},
              {"containerID", s.containerId},
              {"ifname", s.ifname},
              {"name", s.name},
              {"mac", s.mac},
              {"alias", s.alias},
              {"mtu", s.mtu},
              {"up", s.up},
              {"addresses", s.addresses}};
    const auto slash = path.rfind('/');
    TRY(makeDirs(path.substr(0, slash)));
    const std::string tmp = path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".tmp" +
                            std::to_string(::getpid());
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return failErrno("create " + tmp, errno, Code::IoFailure);
    const std::string data = j.dump(1) + "\n";
    bool ok = ::write(fd.get(), data.data(), data.size()) == ssize_t(data.size()) &&
              ::fsync(fd.get()) == 0;
    int err = errno;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        if (ok) err = errno;
        ::unlink(tmp.c_str());
        return failErrno("write " + path, err ? err : EIO, Code::IoFailure);
    }
    return {};
}

Expected<std::optional<Saved>> readSaved(const std::string& path) {
    auto text =
        TRY(readRegularFile(path, "read host-device state",
                            {.maxBytes = 64 << 10, .followSymlinks = false, .missingOk = true}));
    if (!text) return std::optional<Saved>();
    json j = TRY(cni::parseJsonChecked(*text, "state file " + path));
    if (!j.is_object())
        return fail(Code::DecodeFailure, "state file " + path + " is not a JSON object");
    Saved s;
    auto str = [&](const char* k) {
        return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
    };
    s.network = str("network");
    s.containerId = str("containerID");
    s.ifname = str("ifname");
    s.name = str("name");
    s.mac = str("mac");
    s.alias = str("alias");
    if (j.contains("mtu") && j["mtu"].is_number_unsigned()) s.mtu = j["mtu"].get<uint32_t>();
    if (j.contains("up") && j["up"].is_boolean()) s.up = j["up"].get<bool>();
    if (j.contains("addresses") && j["addresses"].is_array())
        for (const auto& a : j["addresses"])
            if (a.is_string()) s.addresses.push_back(a.get<std::string>());
    return std::optional<Saved>(std::move(s));
}

Expected<bool> removeSaved(const std::string& path) {
    if (::unlink(path.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    return failErrno("remove " + path, errno, Code::IoFailure);
}

} // namespace tether::hostdevice
