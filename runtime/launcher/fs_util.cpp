#include "runtime/launcher/fs_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>

#include "base/unique_fd.hpp"

namespace tether::rt {

Expected<std::string> readFile(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return failErrno("read " + path, errno, Code::IoFailure);
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return failErrno("read " + path, errno, Code::IoFailure);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Status writeFile(const std::string& path, const std::string& data, bool create, mode_t mode) {
    int flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0);
    UniqueFd fd(::open(path.c_str(), flags, mode));
    if (!fd) return failErrno("write " + path, errno, Code::IoFailure);
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    int err = errno;
    fd.reset();
    if (n < 0) return failErrno("write " + path, err, Code::IoFailure);
    if (static_cast<size_t>(n) != data.size())
        return fail(Code::IoFailure, "write " + path + ": short write");
    return {};
}

Status mkdirs(const std::string& path, mode_t mode) {
    if (path.empty()) return {};
    for (size_t pos = 1;; ++pos) {
        pos = path.find('/', pos);
        std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST)
            return failErrno("mkdir " + part, errno, Code::IoFailure);
        if (pos == std::string::npos) break;
    }
    return {};
}

namespace {
Status removeAt(int dirfd, const std::string& name, const std::string& shown, dev_t dev) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? Status{} : failErrno("stat " + shown, errno, Code::IoFailure);
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev)
            return fail(Code::IoFailure, "remove " + shown + ": is a mount point");
        UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) return failErrno("open " + shown, errno, Code::IoFailure);
        DIR* d = ::fdopendir(fd.get());
        if (!d) return failErrno("opendir " + shown, errno, Code::IoFailure);
        (void)fd.release(); // closedir closes it
        Status result;
        while (dirent* e = ::readdir(d)) {
            std::string child = e->d_name;
            if (child == "." || child == "..") continue;
            auto st2 = removeAt(::dirfd(d), child, shown + "/" + child, dev);
            if (!st2 && result) result = st2;
        }
        ::closedir(d);
        if (!result) return result;
        if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
            return failErrno("rmdir " + shown, errno, Code::IoFailure);
        return {};
    }
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
        return failErrno("unlink " + shown, errno, Code::IoFailure);
    return {};
}
} // namespace

Status removeTree(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return errno == ENOENT ? Status{} : failErrno("stat " + path, errno, Code::IoFailure);
    return removeAt(AT_FDCWD, path, path, st.st_dev);
}

std::optional<int64_t> parseBytes(const std::string& text) {
    if (text == "-1") return -1;
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno != 0) return std::nullopt;
    std::string suffix(end);
    int64_t mult = 1;
    if (suffix.empty() || suffix == "b" || suffix == "B")
        mult = 1;
    else if (suffix == "k" || suffix == "K" || suffix == "kb" || suffix == "KB")
        mult = 1LL << 10;
    else if (suffix == "m" || suffix == "M" || suffix == "mb" || suffix == "MB")
        mult = 1LL << 20;
    else if (suffix == "g" || suffix == "G" || suffix == "gb" || suffix == "GB")
        mult = 1LL << 30;
    else
        return std::nullopt;
    // "99999999999g" would overflow int64_t (undefined behaviour; see tests/fuzz launcher_options):
    // a size that does not fit is not a size.
    if (v > static_cast<unsigned long long>(INT64_MAX / mult)) return std::nullopt;
    return static_cast<int64_t>(v) * mult;
}

namespace {

/// Field 22 (starttime) of a /proc/<pid>/stat text; 0 when malformed.
uint64_t startTimeOf(const std::string& stat) {
    auto close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    // Fields after ")" start at field 3 (state); starttime is field 22.
    size_t pos = close + 2;
    for (int field = 3; field < 22 && pos != std::string::npos; ++field)
        pos = stat.find(' ', pos) + 1;
    if (pos == 0 || pos == std::string::npos) return 0;
    return std::strtoull(stat.c_str() + pos, nullptr, 10);
}

} // namespace

uint64_t processStartTime(pid_t pid) {
    auto stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    return stat ? startTimeOf(*stat) : 0;
}

bool processAlive(pid_t pid, uint64_t startTime) {
    if (pid <= 0) return false;
    // /proc/<pid>/stat, not kill(pid, 0): a zombie (state Z, or X while it is reaped) still
    // answers kill(), but it runs nothing; it is dead for ps, stop and gc.
    auto stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return false;
    auto close = stat->rfind(')');
    if (close == std::string::npos || close + 2 >= stat->size()) return false;
    char state = (*stat)[close + 2];
    if (state == 'Z' || state == 'X' || state == 'x') return false;
    uint64_t st = startTimeOf(*stat);
    if (st == 0) return false;
    return startTime == 0 || st == startTime;
}

} // namespace tether::rt
