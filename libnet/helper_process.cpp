#include "libnet/helper_process.hpp"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

namespace tether::net {

namespace {

// Abstract names live in the network namespace: one helper per netns. "-v2": a helper of an
// older tether (which only held sockets) must never be asked to run a request.
constexpr char kHelperName[] = "tether/helper-v2";
// Without a new job for this long, the helper closes what it holds (the destroy work of the last
// deletions has long finished; the release costs nothing) and, unless adopted, exits.
constexpr int kIdleMs = 300;
// While adopted by a subreaper, how often it checks whether it has been handed on to init.
constexpr int kAdoptedCheckMs = 5000;
// It closes everything it holds when it has this many, to stay far below RLIMIT_NOFILE.
constexpr size_t kMaxHeld = 512;
constexpr size_t kMaxRequest = 512;

constexpr char kHold = 'H';
constexpr char kRequest = 'R';

socklen_t helperAddress(sockaddr_un& addr) {
    addr = {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path + 1, kHelperName, sizeof(kHelperName) - 1);
    return socklen_t(offsetof(sockaddr_un, sun_path) + 1 + sizeof(kHelperName) - 1);
}

// A netfilter or rtnetlink socket carries its opener's privileges: only a peer of our own uid
// may hand one over or receive one.
bool peerIsUs(int conn) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    return ::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == ::geteuid();
}

int64_t nowMs() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool sendWithFd(int conn, const char* data, size_t len, int fd) {
    iovec iov{const_cast<char*>(data), len};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return ::sendmsg(conn, &msg, MSG_NOSIGNAL) == ssize_t(len);
}

// A worker (forked by the helper, which reaps it): sends the request, waits for the kernel's
// ack, reports its errno on `conn`. Only syscalls.
[[noreturn]] void workerMain(int sock, int conn, const char* req, size_t len) {
    if (::send(sock, req, len, 0) < 0) {
        int err = errno;
        (void)::send(conn, &err, sizeof(err), MSG_NOSIGNAL);
        ::_exit(0);
    }
    alignas(nlmsghdr) std::array<char, 1024> ack{};
    for (;;) {
        ssize_t n = ::recv(sock, ack.data(), ack.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        int err = 0;
        if (n < 0) {
            err = errno;
        } else {
            bool found = false;
            for (auto* h = reinterpret_cast<nlmsghdr*>(ack.data()); NLMSG_OK(h, size_t(n));
                 h = NLMSG_NEXT(h, n)) {
                if (h->nlmsg_type != NLMSG_ERROR) continue;
                err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
                found = true;
                break;
            }
            if (!found) continue;
        }
        (void)::send(conn, &err, sizeof(err), MSG_NOSIGNAL);
        ::_exit(0);
    }
}

struct Held {
    std::array<int, kMaxHeld> fds{};
    size_t count = 0;
    void add(int fd) {
        if (count == fds.size()) closeAll();
        fds[count++] = fd;
    }
    void closeAll() {
        for (size_t i = 0; i < count; ++i)
            ::close(fds[i]);
        count = 0;
    }
};

// One connection: a socket to hold, or a request to run in a worker. True when it was a job (a
// bare connect, as a probe makes, does not keep the helper awake).
bool serve(int listener, int conn, Held& held) {
    std::array<char, 1 + kMaxRequest> data{};
    iovec iov{data.data(), data.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * 4)> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    std::array<int, 4> fds{};
    size_t nfds = 0;
    for (cmsghdr* c = n >= 0 ? CMSG_FIRSTHDR(&msg) : nullptr; c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k && nfds < fds.size(); ++i)
            std::memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    if (n >= 1 && data[0] == kHold) {
        for (size_t i = 0; i < nfds; ++i)
            held.add(fds[i]);
        return nfds > 0;
    }
    if (n > 1 && data[0] == kRequest && nfds == 1 && !(msg.msg_flags & MSG_TRUNC)) {
        pid_t pid = ::fork();
        if (pid == 0) {
            ::close(listener);
            held.closeAll();
            workerMain(fds[0], conn, data.data() + 1, size_t(n - 1));
        }
        if (pid < 0) {
            int err = errno;
            (void)::send(conn, &err, sizeof(err), MSG_NOSIGNAL);
        }
    }
    bool job = nfds > 0;
    for (size_t i = 0; i < nfds; ++i)
        ::close(fds[i]);
    return job;
}

// The helper's loop (in a forked child of a possibly multi-threaded plugin: syscalls only, no
// allocation). Adopted means re-parented to a subreaper rather than to init or still our
// spawner's child: then it stays, so that it never becomes a zombie nobody reaps.
[[noreturn]] void helperMain(int listener, pid_t spawner) {
    Held held;
    int64_t deadline = nowMs() + kIdleMs; // pushed back by every job
    bool idle = false;
    for (;;) {
        int wait = idle ? kAdoptedCheckMs : int(std::max<int64_t>(0, deadline - nowMs()));
        pollfd p{listener, POLLIN, 0};
        int r = ::poll(&p, 1, wait);
        if (r < 0 && errno != EINTR) break;
        if (r > 0) {
            int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (conn >= 0) {
                if (peerIsUs(conn) && serve(listener, conn, held)) {
                    deadline = nowMs() + kIdleMs;
                    idle = false;
                }
                ::close(conn);
            }
            continue;
        }
        if (r < 0 || (!idle && nowMs() < deadline)) continue;
        held.closeAll();
        pid_t parent = ::getppid();
        if (parent == 1 || parent == spawner) break; // whoever reaps us: init, or our spawner
        idle = true;                                 // adopted: stay, holding nothing
    }
    ::close(listener); // frees the name: the next plugin starts a new helper
    held.closeAll();
    ::_exit(0);
}

// Starts a helper listening on the netns's name. True when one runs (ours, or another process's
// that took the name first).
bool spawnHelper() {
    int listener = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (listener < 0) return false;
    sockaddr_un addr;
    socklen_t len = helperAddress(addr);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener, 128) != 0) {
        int err = errno;
        ::close(listener);
        return err == EADDRINUSE;
    }
    pid_t self = ::getpid();
    pid_t pid = ::fork();
    if (pid != 0) {
        ::close(listener);
        return pid > 0;
    }
    // Its own session (a terminal's signals or a runtime killing the plugin's process group do
    // not concern it), nothing open but the listener, so a runtime reading the plugin's stdout
    // sees EOF when the plugin exits; its workers are reaped by the kernel.
    ::setsid();
    ::prctl(PR_SET_NAME, "tether-helper");
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGCHLD, SIG_IGN);
    if (listener > 0) ::close_range(0, unsigned(listener - 1), 0);
    ::close_range(unsigned(listener + 1), ~0U, 0);
    helperMain(listener, self);
}

UniqueFd connectHelper() {
    UniqueFd conn(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!conn) return conn;
    sockaddr_un addr;
    socklen_t len = helperAddress(addr);
    if (::connect(conn.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        !peerIsUs(conn.get()))
        return UniqueFd();
    return conn;
}

UniqueFd reachHelper() {
    UniqueFd conn = connectHelper();
    if (!conn && spawnHelper()) conn = connectHelper();
    return conn;
}

} // namespace

bool helperHold(int fd) {
    UniqueFd conn = reachHelper();
    return conn && sendWithFd(conn.get(), &kHold, 1, fd);
}

Expected<UniqueFd> helperSendRequest(int socketFd, const void* req, size_t len) {
    if (len == 0 || len > kMaxRequest) return fail(Code::Internal, "helper request too large");
    UniqueFd conn = reachHelper();
    if (!conn) return failErrno("reach the tether helper", errno ? errno : ECONNREFUSED);
    std::array<char, 1 + kMaxRequest> data{};
    data[0] = kRequest;
    std::memcpy(data.data() + 1, req, len);
    if (!sendWithFd(conn.get(), data.data(), 1 + len, socketFd))
        return failErrno("send to the tether helper", errno);
    return conn;
}

int helperRequestResult(int conn) {
    int err = 0;
    for (;;) {
        ssize_t n = ::recv(conn, &err, sizeof(err), 0);
        if (n < 0 && errno == EINTR) continue;
        return n == ssize_t(sizeof(err)) ? err : EPIPE;
    }
}

} // namespace tether::net
