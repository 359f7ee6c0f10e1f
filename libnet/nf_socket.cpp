#include "libnet/nf_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstdlib>

#include "libnet/helper_process.hpp"
#include "libnet/latency.hpp"

namespace tether::net {

namespace {

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
    // Switched off (TETHER_NF_HOLDER=0), or no helper: the release, and its flush, happen here.
    if (latencyEnabled(Latency::NfHolder)) (void)helperHold(mnl_socket_get_fd(s));
    mnl_socket_close(s); // our reference only, once the helper has its own
}

} // namespace tether::net
