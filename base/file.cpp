#include "base/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/unique_fd.hpp"

namespace tether {

namespace {

const char* kindOf(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

} // namespace

Expected<std::optional<std::string>> readRegularFileAt(int dirfd, const std::string& path,
                                                       std::string_view what,
                                                       const ReadFileOptions& opts) {
    std::string name = std::string(what) + (what.empty() ? "" : " ") + path;
    if (path.find('\0') != std::string::npos)
        return fail(opts.code, name + ": the path contains a NUL character");
    int flags =
        O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (opts.followSymlinks ? 0 : O_NOFOLLOW);
    UniqueFd fd(::openat(dirfd, path.c_str(), flags));
    if (!fd) {
        int err = errno;
        if (err == ENOENT && opts.missingOk) return std::optional<std::string>{};
        if (err == ELOOP && !opts.followSymlinks)
            return fail(opts.code, name + ": is a symbolic link");
        return failErrno(name, err, opts.code);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return failErrno(name, errno, opts.code);
    if (!S_ISREG(st.st_mode))
        return fail(opts.code, name + ": not a regular file (" + kindOf(st.st_mode) + ")");
    if (static_cast<size_t>(st.st_size) > opts.maxBytes)
        return fail(opts.code, name + ": larger than " + std::to_string(opts.maxBytes) + " bytes");
    std::string out;
    out.resize(static_cast<size_t>(st.st_size) + 1);
    size_t have = 0;
    while (true) {
        if (have == out.size()) {
            if (out.size() > opts.maxBytes)
                return fail(opts.code,
                            name + ": larger than " + std::to_string(opts.maxBytes) + " bytes");
            out.resize(std::min(out.size() * 2, opts.maxBytes + 1));
        }
        ssize_t n = ::read(fd.get(), out.data() + have, out.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failErrno(name, errno, opts.code);
        if (n == 0) break;
        have += static_cast<size_t>(n);
    }
    out.resize(have);
    if (have > opts.maxBytes)
        return fail(opts.code, name + ": larger than " + std::to_string(opts.maxBytes) + " bytes");
    return std::optional<std::string>(std::move(out));
}

Expected<std::optional<std::string>> readRegularFile(const std::string& path, std::string_view what,
                                                     const ReadFileOptions& opts) {
    return readRegularFileAt(AT_FDCWD, path, what, opts);
}

} // namespace tether
