#include "libnet/link_detach.hpp"

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "base/unique_fd.hpp"
#include "libnet/helper_process.hpp"
#include "libnet/latency.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"

namespace tether::net {

namespace {

using Fd = UniqueFd;

// An RTM_DELLINK request for `name` with an ack; the helper's worker sends it as it is.
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

Expected<bool> fromErrno(int err, std::string_view name) {
    if (err == 0) return true;
    if (err == ENODEV) return false;
    return failErrno("delete link " + std::string(name), err);
}

// The ordinary delete, waiting for the kernel.
Expected<bool> deleteNow(const Netns& ns, std::string_view name) {
    auto sock = TRY(NetlinkSocket::openIn(ns));
    return deleteLink(sock, name);
}

} // namespace

Expected<bool> deleteLinkDetached(const Netns& ns, std::string_view name) {
    TRY(validateIfName(name));
    if (!latencyEnabled(Latency::DetachedDelete)) return deleteNow(ns, name);
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
    // The helper process sends the request and sits through the kernel's wait; we return on the
    // announcement. No helper (or switched off): the plugin waits itself.
    auto conn = helperSendRequest(req.get(), r.buf.data(), r.len);
    if (!conn) return deleteNow(ns, name);
    req.reset();
    alignas(nlmsghdr) std::array<char, 16384> buf{};
    for (;;) {
        std::array<pollfd, 2> p{{{watch.get(), POLLIN, 0}, {conn->get(), POLLIN, 0}}};
        if (::poll(p.data(), p.size(), -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents != 0) break; // the kernel answered first (e.g. an error), or no worker
        ssize_t n = ::recv(watch.get(), buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            break; // e.g. ENOBUFS: events lost, wait for the ack
        }
        if (announcesDeletion(buf.data(), n, name)) return true;
    }
    int err = helperRequestResult(conn->get());
    // The worker went away without an answer: whatever it did, finish the job here.
    if (err == EPIPE) return deleteNow(ns, name);
    return fromErrno(err, name);
}

} // namespace tether::net
