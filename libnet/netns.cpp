#include "libnet/netns.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/nsfs.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace tether::net {

Expected<Netns> Netns::fromFd(int fd, std::string path) {
    struct statfs sfs {};
    struct stat st {};
    if (fstatfs(fd, &sfs) != 0 || fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return failErrno("stat netns " + path, err, Code::InvalidNetns);
    }
    bool isNet = false;
    if (sfs.f_type == NSFS_MAGIC) {
        // NS_GET_NSTYPE needs Linux 4.11; older kernels fall back to trusting nsfs.
        int type = ioctl(fd, NS_GET_NSTYPE);
        isNet = type == CLONE_NEWNET || (type < 0 && errno == ENOTTY);
    }
    if (!isNet) {
        ::close(fd);
        return fail(Code::InvalidNetns, path + " is not a network namespace");
    }
    return Netns(fd, std::move(path), st.st_dev, st.st_ino);
}

Expected<Netns> Netns::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return failErrno("open netns " + path, errno, Code::InvalidNetns);
    return fromFd(fd, path);
}

Expected<std::optional<Netns>> Netns::openIfExists(const std::string& path) {
    auto ns = open(path);
    if (ns) return std::optional<Netns>(std::move(*ns));
    if (ns.error().errnum == ENOENT) return std::optional<Netns>();
    return std::unexpected(std::move(ns).error());
}

Expected<Netns> Netns::current() {
    return open("/proc/thread-self/ns/net");
}

Expected<Netns> Netns::ofPid(pid_t pid) {
    return open("/proc/" + std::to_string(pid) + "/ns/net");
}

Netns::Netns(Netns&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), dev_(other.dev_),
      ino_(other.ino_) {}

Netns& Netns::operator=(Netns&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
        dev_ = other.dev_;
        ino_ = other.ino_;
    }
    return *this;
}

Netns::~Netns() {
    if (fd_ >= 0) ::close(fd_);
}

bool Netns::sameAs(const Netns& other) const {
    return dev_ == other.dev_ && ino_ == other.ino_;
}

bool Netns::isCurrent() const {
    struct stat st {};
    if (stat("/proc/thread-self/ns/net", &st) != 0) return false;
    return st.st_dev == dev_ && st.st_ino == ino_;
}

NetnsGuard::NetnsGuard(const Netns& target) {
    auto orig = Netns::current();
    if (!orig) {
        error_ = orig.error().wrap("enter netns " + target.path());
        return;
    }
    original_.emplace(std::move(*orig));
    if (setns(target.fd(), CLONE_NEWNET) != 0) {
        error_ = errnoError("enter netns " + target.path(), errno);
        original_.reset();
        return;
    }
    entered_ = true;
}

NetnsGuard::~NetnsGuard() {
    if (!entered_) return;
    if (!original_ || setns(original_->fd(), CLONE_NEWNET) != 0) {
        std::fprintf(stderr, "tether: cannot restore the original network namespace: %s\n",
                     std::strerror(errno));
        std::abort();
    }
}

namespace {

/// Makes `dir` a shared mount point (bind-mounting it on itself first if it is not a mount
/// point yet), as iproute2 does for /run/netns.
Status makeSharedDir(const std::string& dir) {
    if (mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return {};
    if (errno != EINVAL) return failErrno("make " + dir + " a shared mount", errno);
    if (mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0)
        return failErrno("bind mount " + dir + " on itself", errno);
    if (mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0)
        return failErrno("make " + dir + " a shared mount", errno);
    return {};
}

} // namespace

Status pinNewNetnsHere(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) {
        int err = errno;
        return failErrno("create netns file " + path, err,
                         err == EEXIST ? Code::Conflict : Code::Kernel);
    }
    ::close(fd);
    if (::unshare(CLONE_NEWNET) != 0) {
        int err = errno;
        ::unlink(path.c_str());
        return failErrno("unshare network namespace for " + path, err);
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
        int err = errno;
        ::unlink(path.c_str());
        return failErrno("bind mount netns on " + path, err);
    }
    return {};
}

Expected<Netns> createPinnedNetns(const std::string& path, bool sharedDir) {
    std::filesystem::path p(path);
    std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return failErrno("create directory " + dir, ec.value());
    if (sharedDir) TRY(makeSharedDir(dir));

    // unshare() changes the namespace of the calling thread only; a throwaway thread keeps
    // ours untouched, and the bind mount keeps the namespace alive after the thread exits.
    Status st;
    std::thread worker([&] { st = pinNewNetnsHere(path); });
    worker.join();
    TRY(std::move(st));
    auto ns = Netns::open(path);
    if (!ns) {
        (void)removePinnedNetns(path);
        return std::unexpected(std::move(ns).error());
    }
    return ns;
}

Expected<bool> removePinnedNetns(const std::string& path) {
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return false;
        return failErrno("stat " + path, errno);
    }
    if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        return failErrno("unmount netns " + path, errno);
    for (int attempt = 0;; ++attempt) {
        if (::unlink(path.c_str()) == 0 || errno == ENOENT) return true;
        if (errno != EBUSY || attempt >= 20) return failErrno("remove netns file " + path, errno);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

} // namespace tether::net
