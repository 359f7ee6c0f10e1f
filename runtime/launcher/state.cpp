#include "runtime/launcher/state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/fs_util.hpp"

namespace tether::rt {

Status markStateDir(const std::string& dir) {
    std::string mark = dir + "/" + kStateDirMark;
    int fd = ::open(mark.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return failErrno("create " + mark, errno, Code::IoFailure);
    ::close(fd);
    return {};
}

bool isStateDir(const std::string& dir) {
    struct stat st {};
    return ::lstat((dir + "/" + kStateDirMark).c_str(), &st) == 0 ||
           ::lstat((dir + "/state.json").c_str(), &st) == 0;
}

Status writeState(const LauncherPaths& paths, const std::string& id, const nlohmann::json& state) {
    std::string path = paths.stateDir(id) + "/state.json";
    std::string tmp = path + ".tmp";
    TRY(writeFile(tmp, state.dump(2) + "\n", true, 0600));
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return failErrno("rename " + tmp, errno, Code::IoFailure);
    return {};
}

Expected<nlohmann::json> readState(const LauncherPaths& paths, const std::string& id) {
    if (!validName(id)) return fail(Code::UnknownContainer, "invalid container id " + id);
    auto text = readFile(paths.stateDir(id) + "/state.json");
    if (!text) {
        if (text.error().errnum == ENOENT)
            return fail(Code::UnknownContainer, "no such container " + id);
        return std::unexpected(text.error());
    }
    try {
        return nlohmann::json::parse(*text);
    } catch (const std::exception& e) {
        return fail(Code::DecodeFailure, "state of container " + id + " is corrupt", e.what());
    }
}

std::vector<std::string> listContainers(const LauncherPaths& paths) {
    std::vector<std::string> ids;
    DIR* d = ::opendir(paths.stateRoot.c_str());
    if (!d) return ids;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != ".." && validName(n)) ids.push_back(n);
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::string liveStatus(const nlohmann::json& state) {
    std::string recorded = state.value("status", "creating");
    if (recorded == "exited" || recorded == "created") return recorded;
    // The supervisor records the exit; without it the container's end was never recorded.
    if (!processAlive(state.value("supervisorPid", 0),
                      state.value("supervisorStartTime", uint64_t{0})))
        return "dead";
    pid_t pid = state.value("pid", 0);
    if (pid == 0) return recorded;
    if (!processAlive(pid, state.value("pidStartTime", uint64_t{0}))) return "exited";
    if (state.contains("cgroup") && Cgroup::fromJson(state["cgroup"]).frozen()) return "paused";
    return "running";
}

StateLock::StateLock(const LauncherPaths& paths, const std::string& id) {
    fd_ = ::open(paths.stateDir(id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
}

StateLock::~StateLock() {
    if (fd_ >= 0) ::close(fd_);
}

} // namespace tether::rt
