#include "ipam/dir_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>

namespace tether::ipam {

namespace {

Status writeAll(int fd, std::string_view content, const std::string& what) {
    size_t off = 0;
    while (off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return failErrno("write " + what, errno, Code::IoFailure);
        }
        off += size_t(n);
    }
    return {};
}

std::string tempName() {
    static std::atomic<unsigned> counter{0};
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(now) + "-" +
           std::to_string(counter++);
}

// Places an anonymous O_TMPFILE inode under `name`. AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH on
// older kernels, so the /proc/self/fd path is the fallback.
int linkTmpfile(int fd, int dir, const std::string& name) {
    if (::linkat(fd, "", dir, name.c_str(), AT_EMPTY_PATH) == 0) return 0;
    if (errno == EEXIST) return EEXIST;
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    if (::linkat(AT_FDCWD, proc.c_str(), dir, name.c_str(), AT_SYMLINK_FOLLOW) == 0) return 0;
    return errno;
}

} // namespace

Expected<UniqueFd> openDirectory(int parent, const std::string& name, unsigned mode) {
    if (::mkdirat(parent, name.c_str(), mode) != 0 && errno != EEXIST)
        return failErrno("create directory " + name, errno, Code::IoFailure);
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        struct stat st {};
        if ((err == ELOOP || err == ENOTDIR) &&
            ::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            return fail(Code::InvalidConfig, "directory " + name + " is a symlink, refusing it");
        return failErrno("open directory " + name, err, Code::IoFailure);
    }
    return UniqueFd(fd);
}

Expected<std::optional<std::string>> readSmallFile(int dir, const std::string& name, size_t limit) {
    int raw = ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (raw < 0) {
        if (errno == ENOENT || errno == ELOOP || errno == ENXIO)
            return std::optional<std::string>{};
        return failErrno("open " + name, errno, Code::IoFailure);
    }
    UniqueFd fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return failErrno("stat " + name, errno, Code::IoFailure);
    if (!S_ISREG(st.st_mode)) return std::optional<std::string>{};
    std::string out;
    char buf[512];
    while (out.size() < limit) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return failErrno("read " + name, errno, Code::IoFailure);
        }
        if (n == 0) break;
        out.append(buf, size_t(n));
    }
    if (out.size() > limit) out.resize(limit);
    return std::optional<std::string>(std::move(out));
}

namespace {

// Place::Overwrite on an existing single-link regular file; false when that is not what is there.
Expected<bool> overwriteInPlace(int dir, const std::string& name, std::string_view content) {
    // O_NONBLOCK: a FIFO in its place must not block the open; it is rejected just below.
    int raw = ::openat(dir, name.c_str(), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (raw < 0) return false;
    UniqueFd fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) return false;
    if (::ftruncate(fd.get(), 0) != 0) return failErrno("truncate " + name, errno, Code::IoFailure);
    TRY(writeAll(fd.get(), content, name));
    return true;
}

} // namespace

Expected<bool> writeFileAt(int dir, const std::string& name, std::string_view content,
                           const WriteOptions& opts) {
    if (opts.place == Place::Overwrite && TRY(overwriteInPlace(dir, name, content))) return true;
    int raw = ::openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, opts.mode);
    std::string named; // set when O_TMPFILE is unsupported and a named temporary is used
    if (raw < 0) {
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            return failErrno("create temporary file for " + name, errno, Code::IoFailure);
        named = tempName();
        raw = ::openat(dir, named.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       opts.mode);
        if (raw < 0) return failErrno("create temporary file for " + name, errno, Code::IoFailure);
    }
    UniqueFd fd(raw);
    auto cleanup = [&] {
        if (!named.empty()) ::unlinkat(dir, named.c_str(), 0);
    };
    if (::fchmod(fd.get(), opts.mode) != 0) {
        cleanup();
        return failErrno("chmod " + name, errno, Code::IoFailure);
    }
    if (auto st = writeAll(fd.get(), content, name); !st) {
        cleanup();
        return std::unexpected(st.error());
    }
    if (opts.sync && ::fdatasync(fd.get()) != 0) {
        cleanup();
        return failErrno("sync " + name, errno, Code::IoFailure);
    }
    if (opts.place != Place::Exclusive) {
        if (named.empty()) {
            // rename(2) cannot take an O_TMPFILE inode: link it under a temporary name first.
            named = tempName();
            if (int err = linkTmpfile(fd.get(), dir, named); err != 0)
                return failErrno("link temporary file for " + name, err, Code::IoFailure);
        }
        if (::renameat(dir, named.c_str(), dir, name.c_str()) != 0) {
            int err = errno;
            cleanup();
            return failErrno("rename into " + name, err, Code::IoFailure);
        }
        return true;
    }
    if (named.empty()) {
        int err = linkTmpfile(fd.get(), dir, name);
        if (err == EEXIST) return false;
        if (err != 0) return failErrno("link " + name, err, Code::IoFailure);
        return true;
    }
    int rc = ::linkat(dir, named.c_str(), dir, name.c_str(), 0);
    int err = errno;
    cleanup();
    if (rc == 0) return true;
    if (err == EEXIST) return false;
    return failErrno("link " + name, err, Code::IoFailure);
}

Expected<UniqueFd> prepareFile(int dir, std::string_view content, unsigned mode, bool sync) {
    int raw = ::openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    if (raw < 0) {
        if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) return UniqueFd{};
        return failErrno("create temporary file", errno, Code::IoFailure);
    }
    UniqueFd fd(raw);
    if (::fchmod(fd.get(), mode) != 0)
        return failErrno("chmod temporary file", errno, Code::IoFailure);
    TRY(writeAll(fd.get(), content, "temporary file"));
    if (sync && ::fdatasync(fd.get()) != 0)
        return failErrno("sync temporary file", errno, Code::IoFailure);
    return fd;
}

Expected<bool> linkPrepared(int fd, int dir, const std::string& name) {
    int err = linkTmpfile(fd, dir, name);
    if (err == EEXIST) return false;
    if (err != 0) return failErrno("link " + name, err, Code::IoFailure);
    return true;
}

Expected<bool> unlinkAt(int dir, const std::string& name) {
    if (::unlinkat(dir, name.c_str(), 0) == 0) return true;
    if (errno == ENOENT) return false;
    return failErrno("remove " + name, errno, Code::IoFailure);
}

Expected<bool> existsAt(int dir, const std::string& name) {
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
    if (errno == ENOENT) return false;
    return failErrno("stat " + name, errno, Code::IoFailure);
}

Expected<std::vector<DirEntry>> listDirectory(int dir) {
    int dup = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0) return failErrno("open directory", errno, Code::IoFailure);
    DIR* d = ::fdopendir(dup);
    if (!d) {
        int err = errno;
        ::close(dup);
        return failErrno("read directory", err, Code::IoFailure);
    }
    std::vector<DirEntry> out;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n == "." || n == "..") continue;
        bool isDir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st {};
            isDir = ::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        out.push_back({std::string(n), isDir});
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return failErrno("read directory", err, Code::IoFailure);
    return out;
}

} // namespace tether::ipam
