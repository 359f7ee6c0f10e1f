// Network namespace handles: open a netns by path (verified to be a netns), compare namespaces,
// enter one on the calling thread with guaranteed restore, and create/remove pinned namespaces
// the way `ip netns add/delete` does.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "base/error.hpp"

namespace tether::net {

/// An open network namespace (an fd on an nsfs inode). Move-only; closes the fd on destruction.
class Netns {
  public:
    /// Opens `path` read-only, close-on-exec. Errors (all code 8, InvalidNetns):
    /// missing path -> "open netns <path>: No such file or directory" with errnum ENOENT (so DEL
    /// can tolerate it); a file that is not on nsfs or not a *network* namespace ->
    /// "<path> is not a network namespace"; other open failures carry their errno.
    static Expected<Netns> open(const std::string& path);
    /// Like open() but a path that does not exist is nullopt rather than an error.
    static Expected<std::optional<Netns>> openIfExists(const std::string& path);
    /// The network namespace of the calling thread (/proc/thread-self/ns/net).
    static Expected<Netns> current();
    /// The network namespace of process `pid` (/proc/<pid>/ns/net).
    static Expected<Netns> ofPid(pid_t pid);

    Netns(Netns&& other) noexcept;
    Netns& operator=(Netns&& other) noexcept;
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;
    ~Netns();

    /// The fd (valid while this object lives). Usable as IFLA_NET_NS_FD or with setns().
    [[nodiscard]] int fd() const { return fd_; }
    /// The path it was opened from (for messages).
    [[nodiscard]] const std::string& path() const { return path_; }
    /// True when both handles refer to the same namespace (same st_dev and st_ino).
    [[nodiscard]] bool sameAs(const Netns& other) const;
    /// True when this is the calling thread's current network namespace.
    [[nodiscard]] bool isCurrent() const;
    /// The nsfs inode number (identity within one boot).
    [[nodiscard]] ino_t inode() const { return ino_; }

  private:
    Netns(int fd, std::string path, dev_t dev, ino_t ino)
        : fd_(fd), path_(std::move(path)), dev_(dev), ino_(ino) {}
    static Expected<Netns> fromFd(int fd, std::string path);
    int fd_ = -1;
    std::string path_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

/// Switches the calling thread into a network namespace and switches it back in the destructor.
/// If the original namespace cannot be restored the process aborts: continuing in the wrong
/// namespace would silently act on the wrong network. Not movable; keep it on the stack.
class NetnsGuard {
  public:
    /// Enters `target` (setns CLONE_NEWNET). On failure the thread is unchanged and `ok()` is
    /// false with `error()` set; use enter() below for the Expected form.
    explicit NetnsGuard(const Netns& target);
    ~NetnsGuard();
    NetnsGuard(const NetnsGuard&) = delete;
    NetnsGuard& operator=(const NetnsGuard&) = delete;

    [[nodiscard]] bool ok() const { return entered_; }
    [[nodiscard]] const Error& error() const { return error_; }

  private:
    std::optional<Netns> original_;
    bool entered_ = false;
    Error error_;
};

/// Runs `fn()` with the calling thread inside `ns` and returns its result. `fn` returns
/// Expected<T> or Status; entering errors are returned as-is (wrapped with the netns path).
template <class F> auto inNetns(const Netns& ns, F&& fn) -> std::invoke_result_t<F> {
    NetnsGuard guard(ns);
    if (!guard.ok()) return std::unexpected(guard.error());
    return std::forward<F>(fn)();
}

/// Creates a fresh network namespace pinned (bind-mounted) at `path`, like `ip netns add`:
/// the namespace is made by unshare(CLONE_NEWNET) in a short-lived thread, the file `path` is
/// created (0444, O_EXCL) and the thread's netns is bind-mounted on it. The parent directory is
/// created (0755) if missing; when `sharedDir` is true the directory is first made a shared
/// bind mount of itself (what iproute2 does for /run/netns so pins propagate between mount
/// namespaces). An existing `path` is an error (code 102 Conflict, errnum EEXIST). On failure
/// nothing is left behind. Returns the opened namespace.
Expected<Netns> createPinnedNetns(const std::string& path, bool sharedDir = false);

/// The core of createPinnedNetns, for callers that manage threads themselves: creates the file
/// `path` (0444, O_EXCL; its directory must exist), moves the *calling* thread into a new network
/// namespace (it stays there) and bind-mounts that namespace on `path`. On failure the file is
/// removed (the thread may already be in the new, unpinned namespace).
Status pinNewNetnsHere(const std::string& path);

/// Unmounts (MNT_DETACH) and unlinks a pinned namespace file, retrying EBUSY a few times.
/// Returns false when `path` did not exist (idempotent teardown).
Expected<bool> removePinnedNetns(const std::string& path);

} // namespace tether::net
