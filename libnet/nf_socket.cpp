#include "libnet/nf_socket.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace tether::net {

namespace {

// The holder's abstract unix socket name. Abstract names live in the network namespace, so each
// netns gets its own holder, for the sockets of that netns.
constexpr char kHolderName[] = "tether/nf-socket-holder";
// The holder exits (closing what it holds) after this long without a new socket: by then the
// destroy work of the last deletions has long finished and the release costs nothing.
constexpr int kHolderIdleMs = 300;
// It closes everything it holds when it has this many, to stay far below RLIMIT_NOFILE.
constexpr size_t kHolderMaxFds = 512;

struct Shared {
    std::mutex mutex;
    mnl_socket* sock = nullptr;
    ino_t netns = 0;
    bool atExitRegistered = false;
};

Shared& shared() {
    static auto* s = new Shared; // never destroyed: used from the atexit handler
    return *s;
}

ino_t threadNetns() {
    struct stat st {};
    if (::stat("/proc/thread-self/ns/net", &st) != 0) return 0;
    return st.st_ino;
}

mnl_socket* openBound() {
    mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!s) return nullptr;
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
        int err = errno;
        mnl_socket_close(s);
        errno = err;
        return nullptr;
    }
    return s;
}

// Discards replies an earlier user left unread (an operation that failed midway).
void drain(mnl_socket* s) {
    std::array<char, 8192> buf{};
    while (::recv(mnl_socket_get_fd(s), buf.data(), buf.size(), MSG_DONTWAIT) > 0 ||
           errno == EINTR || errno == ENOBUFS) {
    }
}

socklen_t holderAddress(sockaddr_un& addr) {
    addr = {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path + 1, kHolderName, sizeof(kHolderName) - 1);
    return socklen_t(offsetof(sockaddr_un, sun_path) + 1 + sizeof(kHolderName) - 1);
}

bool peerIsUs(int conn) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    return ::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == ::geteuid();
}

// Passes `fd` to a running holder. Only a holder of our own uid gets it: a netfilter socket
// carries its opener's privileges.
bool passToHolder(int fd) {
    int conn = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (conn < 0) return false;
    sockaddr_un addr;
    socklen_t len = holderAddress(addr);
    bool ok = ::connect(conn, reinterpret_cast<sockaddr*>(&addr), len) == 0 && peerIsUs(conn);
    if (ok) {
        char byte = 0;
        iovec iov{&byte, 1};
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
        ok = ::sendmsg(conn, &msg, MSG_NOSIGNAL) == 1;
    }
    ::close(conn);
    return ok;
}

// The holder's loop (in the forked child; no allocation): collect sockets until idle, then
// close them all and exit.
[[noreturn]] void holderMain(int listener, int first) {
    std::array<int, kHolderMaxFds> held{};
    size_t count = 0;
    auto closeAll = [&] {
        for (size_t i = 0; i < count; ++i)
            ::close(held[i]);
        count = 0;
    };
    held[count++] = first;
    auto nowMs = [] {
        timespec ts{};
        ::clock_gettime(CLOCK_MONOTONIC, &ts);
        return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
    };
    int64_t deadline = nowMs() + kHolderIdleMs; // pushed back by every socket received
    for (;;) {
        int64_t wait = deadline - nowMs();
        if (wait <= 0) break;
        pollfd p{listener, POLLIN, 0};
        int r = ::poll(&p, 1, int(wait));
        if (r == 0) break;
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) continue;
        if (peerIsUs(conn)) {
            char byte = 0;
            iovec iov{&byte, 1};
            alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * 4)> control{};
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.data();
            msg.msg_controllen = control.size();
            if (::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0) {
                for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
                    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                    for (size_t i = 0; i < n; ++i) {
                        if (count == held.size()) closeAll();
                        std::memcpy(&held[count++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                    }
                    if (n > 0) deadline = nowMs() + kHolderIdleMs;
                }
            }
        }
        ::close(conn);
    }
    ::close(listener); // frees the name: the next plugin starts a new holder
    closeAll();
    ::_exit(0);
}

// Starts a holder owning `fd`. Another process may have started one meanwhile: then pass to it.
bool spawnHolder(int fd) {
    int listener = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (listener < 0) return false;
    sockaddr_un addr;
    socklen_t len = holderAddress(addr);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener, 128) != 0) {
        ::close(listener);
        return passToHolder(fd);
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(listener);
        return false;
    }
    if (pid > 0) {
        ::close(listener);
        return true;
    }
    // The holder: its own session (a terminal's signals or a runtime killing the plugin's
    // process group do not concern it), nothing open but the listener and the socket, so a
    // runtime reading the plugin's stdout sees EOF when the plugin exits.
    ::setsid();
    ::prctl(PR_SET_NAME, "tether-nfhold");
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
    int lo = std::min(listener, fd), hi = std::max(listener, fd);
    if (lo > 0) ::close_range(0, unsigned(lo - 1), 0);
    if (hi > lo + 1) ::close_range(unsigned(lo + 1), unsigned(hi - 1), 0);
    ::close_range(unsigned(hi + 1), ~0U, 0);
    holderMain(listener, fd);
}

} // namespace

NfSocketLease::NfSocketLease(mnl_socket* s, bool shared) : sock_(s), shared_(shared) {}

NfSocketLease::NfSocketLease(NfSocketLease&& other) noexcept
    : sock_(std::exchange(other.sock_, nullptr)), shared_(other.shared_) {}

NfSocketLease::~NfSocketLease() {
    if (!sock_) return;
    if (shared_)
        shared().mutex.unlock();
    else
        mnl_socket_close(sock_);
}

Expected<NfSocketLease> leaseNetfilterSocket(std::string_view what) {
    ino_t ns = threadNetns();
    Shared& sh = shared();
    sh.mutex.lock();
    if (!sh.sock && ns != 0) {
        sh.sock = openBound();
        if (!sh.sock) {
            int err = errno;
            sh.mutex.unlock();
            return failErrno(std::string(what) + ": open nfnetlink socket", err);
        }
        sh.netns = ns;
        if (!sh.atExitRegistered) {
            sh.atExitRegistered = true;
            std::atexit(handOffNetfilterSocket);
        }
    }
    if (sh.sock && sh.netns == ns) {
        drain(sh.sock);
        return NfSocketLease(sh.sock, true);
    }
    sh.mutex.unlock();
    mnl_socket* s = openBound();
    if (!s) return failErrno(std::string(what) + ": open nfnetlink socket", errno);
    return NfSocketLease(s, false);
}

void handOffNetfilterSocket() {
    Shared& sh = shared();
    // A thread still using the socket at exit keeps it: the kernel then releases it as usual.
    if (!sh.mutex.try_lock()) return;
    mnl_socket* s = std::exchange(sh.sock, nullptr);
    sh.mutex.unlock();
    if (!s) return;
    int fd = mnl_socket_get_fd(s);
    if (!passToHolder(fd)) (void)spawnHolder(fd);
    mnl_socket_close(s); // our reference only, once the holder has its own
}

} // namespace tether::net
