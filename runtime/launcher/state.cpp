#include "runtime/launcher/state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <string_view>

#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/fs_util.hpp"

namespace tether::rt {

namespace {

constexpr std::string_view kNewDirPrefix = ".new-";

Status markStateDir(const std::string& dir) {
    std::string mark = dir + "/" + kStateDirMark;
    UniqueFd fd(::open(mark.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return failErrno("create " + mark, errno, Code::IoFailure);
    return {};
}

Status alreadyExists(const std::string& id) {
    return fail(Code::Conflict, "container " + id + " already exists");
}

} // namespace

Status createStateDir(const LauncherPaths& paths, const std::string& id) {
    TRY(mkdirs(paths.stateRoot, 0711));
    std::string dir = paths.stateDir(id);
    std::string fresh =
        paths.stateRoot + "/" + std::string(kNewDirPrefix) + id + "-" + std::to_string(::getpid());
    if (::mkdir(fresh.c_str(), 0700) != 0) {
        // Left by a dead launcher that had the same pid: replaced.
        if (errno != EEXIST || !removeTree(fresh) || ::mkdir(fresh.c_str(), 0700) != 0)
            return failErrno("mkdir " + fresh, errno);
    }
    if (auto m = markStateDir(fresh); !m) {
        (void)removeTree(fresh);
        return m;
    }
    if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) == 0)
        return {};
    int err = errno;
    (void)removeTree(fresh);
    if (err == EEXIST) return alreadyExists(id);
    if (err != EINVAL) return failErrno("rename " + fresh + " to " + dir, err);
    // A filesystem without RENAME_NOREPLACE: mkdir, then the mark (a kill in between leaves an
    // unmarked dir that gc does not remove).
    if (::mkdir(dir.c_str(), 0700) != 0)
        return errno == EEXIST ? alreadyExists(id) : failErrno("mkdir " + dir, errno);
    return markStateDir(dir);
}

std::vector<std::string> removeAbandonedStateDirs(const LauncherPaths& paths) {
    std::vector<std::string> removed;
    DIR* d = ::opendir(paths.stateRoot.c_str());
    if (!d) return removed;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.starts_with(kNewDirPrefix)) names.push_back(n);
    }
    ::closedir(d);
    for (const auto& n : names) {
        std::string path = paths.stateRoot + "/" + n;
        struct stat st {};
        // Only dirs createStateDir made (marked), and only once no launcher can still rename it.
        if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_ctime + 5 > std::time(nullptr) || !isStateDir(path))
            continue;
        auto r = removeTree(path);
        removed.push_back("removed " + n + " (launcher died while creating it)" +
                          (r ? "" : " (" + r.error().text() + ")"));
    }
    return removed;
}

bool isStateDir(const std::string& dir) {
    struct stat st {};
    return ::lstat((dir + "/" + kStateDirMark).c_str(), &st) == 0 ||
           ::lstat((dir + "/state.json").c_str(), &st) == 0;
}

Status writeState(const LauncherPaths& paths, const ContainerState& state) {
    std::string path = paths.stateDir(state.id) + "/state.json";
    std::string tmp = path + ".tmp";
    TRY(writeFile(tmp, toJson(state).dump(2) + "\n", true, 0600));
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return failErrno("rename " + tmp, errno, Code::IoFailure);
    return {};
}

Expected<ContainerState> readState(const LauncherPaths& paths, const std::string& id) {
    if (!validName(id)) return fail(Code::UnknownContainer, "invalid container id " + id);
    std::string path = paths.stateDir(id) + "/state.json";
    auto text = readFile(path);
    if (!text) {
        if (text.error().errnum == ENOENT)
            return fail(Code::UnknownContainer, "no such container " + id);
        return std::unexpected(text.error());
    }
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::exception& e) {
        return fail(Code::DecodeFailure, path + ": not valid JSON", e.what());
    }
    auto st = containerStateFromJson(j);
    if (!st) return std::unexpected(st.error().wrap(path));
    // Teardown removes the state dir of st->id: it must be this one.
    if (st->id.empty()) st->id = id;
    if (st->id != id)
        return fail(Code::DecodeFailure,
                    path + ": key \"id\": \"" + st->id + "\" is not the state dir's id " + id);
    return st;
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

ContainerStatus liveStatus(const ContainerState& state) {
    using enum ContainerStatus;
    if (state.status == Exited || state.status == Created) return state.status;
    // The supervisor records the exit; without it the container's end was never recorded.
    if (!state.supervisorAlive()) return Dead;
    if (state.pid() == 0) return state.status;
    if (!state.process->alive()) return Exited;
    if (state.cgroup && state.cgroup->frozen()) return Paused;
    return Running;
}

StateLock::StateLock(const LauncherPaths& paths, const std::string& id)
    : fd_(::open(paths.stateDir(id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_) ::flock(fd_.get(), LOCK_EX);
}

} // namespace tether::rt
