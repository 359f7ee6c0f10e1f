#include "libnet/link_detach.hpp"

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "base/unique_fd.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"

namespace tether::net {

namespace {

using Fd = UniqueFd;

// An RTM_DELLINK request for `name` with an ack, built before the fork (the child only sends).
struct Request {
    alignas(nlmsghdr) std::array<char, 128> buf{};
    size_t len = 0;
};

Request makeRequest(std::string_view name) {
    Request r;
    auto* nlh = reinterpret_cast<nlmsghdr*>(r.buf.data());
    nlh->nlmsg_type = RTM_DELLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = 1;
    auto* ifi = reinterpret_cast<ifinfomsg*>(NLMSG_DATA(nlh));
    ifi->ifi_family = AF_UNSPEC;
    size_t len = NLMSG_LENGTH(sizeof(ifinfomsg));
    auto* rta = reinterpret_cast<rtattr*>(r.buf.data() + NLMSG_ALIGN(len));
    rta->rta_type = IFLA_IFNAME;
    rta->rta_len = uint16_t(RTA_LENGTH(name.size() + 1));
    std::memcpy(RTA_DATA(rta), name.data(), name.size()); // NUL from the zeroed buffer
    len = NLMSG_ALIGN(len) + RTA_ALIGN(rta->rta_len);
    nlh->nlmsg_len = uint32_t(len);
    r.len = len;
    return r;
}

// The child: send, read the ack, exit with the errno (0 on success). Only syscalls.
[[noreturn]] void childMain(int req, const Request& r) {
    if (req > 0) ::close_range(0, unsigned(req - 1), 0);
    ::close_range(unsigned(req + 1), ~0U, 0);
    if (::send(req, r.buf.data(), r.len, 0) < 0) ::_exit(errno & 0xff);
    alignas(nlmsghdr) std::array<char, 1024> ack{};
    for (;;) {
        ssize_t n = ::recv(req, ack.data(), ack.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) ::_exit(errno & 0xff);
        for (auto* h = reinterpret_cast<nlmsghdr*>(ack.data()); NLMSG_OK(h, size_t(n));
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type != NLMSG_ERROR) continue;
            int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
            ::_exit(err & 0xff);
        }
    }
}

// True when the buffer holds the RTM_DELLINK announcement of `name`.
bool announcesDeletion(const char* buf, ssize_t n, std::string_view name) {
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf); NLMSG_OK(h, size_t(n));
         h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type != RTM_DELLINK) continue;
        const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
        int left = int(IFLA_PAYLOAD(h));
        for (auto* a = IFLA_RTA(ifi); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
            if (a->rta_type != IFLA_IFNAME) continue;
            const char* got = static_cast<const char*>(RTA_DATA(a));
            if (std::string_view(got, ::strnlen(got, RTA_PAYLOAD(a))) == name) return true;
        }
    }
    return false;
}

Expected<bool> childResult(pid_t pid, std::string_view name) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return failErrno("wait for the deletion of " + std::string(name), errno);
    int err = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
    if (err == 0) return true;
    if (err == ENODEV) return false;
    return failErrno("delete link " + std::string(name), err);
}

} // namespace

Expected<bool> deleteLinkDetached(const Netns& ns, std::string_view name) {
    TRY(validateIfName(name));
    int watchFd = -1, reqFd = -1;
    auto opened = inNetns(ns, [&]() -> Status {
        watchFd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (watchFd < 0) return failErrno("rtnetlink socket", errno);
        reqFd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (reqFd < 0) return failErrno("rtnetlink socket", errno);
        sockaddr_nl sa{};
        sa.nl_family = AF_NETLINK;
        sa.nl_groups = RTMGRP_LINK;
        if (::bind(watchFd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
            return failErrno("subscribe to link events", errno);
        return {};
    });
    Fd watch(watchFd), req(reqFd);
    TRY(std::move(opened));
    Request r = makeRequest(name);
    pid_t pid = ::fork();
    if (pid < 0) { // no child: the ordinary, waiting delete
        auto sock = TRY(NetlinkSocket::openIn(ns));
        return deleteLink(sock, name);
    }
    if (pid == 0) childMain(req.get(), r);
    Fd pidFd(int(::syscall(SYS_pidfd_open, pid, 0)));
    if (pidFd.get() < 0) return childResult(pid, name); // cannot watch the child: wait for it
    alignas(nlmsghdr) std::array<char, 16384> buf{};
    for (;;) {
        std::array<pollfd, 2> p{{{watch.get(), POLLIN, 0}, {pidFd.get(), POLLIN, 0}}};
        if (::poll(p.data(), p.size(), -1) < 0) {
            if (errno == EINTR) continue;
            return childResult(pid, name);
        }
        if (p[1].revents & POLLIN) return childResult(pid, name); // failed, or done first
        ssize_t n = ::recv(watch.get(), buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return childResult(pid, name); // e.g. ENOBUFS: events lost, wait for the ack
        }
        if (announcesDeletion(buf.data(), n, name)) {
            // The child finishes the kernel's wait alone; a thread reaps it in a long-lived
            // caller (a plugin exits first, and init reaps it).
            std::thread([pid] {
                int status = 0;
                while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
                }
            }).detach();
            return true;
        }
    }
}

} // namespace tether::net
