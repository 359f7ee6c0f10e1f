// A NETLINK_ROUTE socket (libnl nl_sock) bound to one network namespace. Open it while the
// thread is inside the target netns (openIn does that) and use it from anywhere: the kernel
// keeps the socket's namespace, so one process can drive the host and a container side by side.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "base/error.hpp"
#include "libnet/netns.hpp"

struct nl_sock;
struct nl_msg;
struct nlmsghdr;

namespace tether::net {

/// Owning pointer to a libnl message (nlmsg_free on destruction).
struct NlMsgDeleter {
    void operator()(nl_msg* m) const;
};
using NlMsg = std::unique_ptr<nl_msg, NlMsgDeleter>;

/// Allocates a message with the given header type and flags (NLM_F_REQUEST is always added)
/// followed by `len` bytes of `hdr` (ifinfomsg, ifaddrmsg, rtmsg ...). Aborts on ENOMEM.
NlMsg makeMessage(int type, int flags, const void* hdr, size_t len);

class NetlinkSocket {
  public:
    /// A socket in the calling thread's current netns. Extended ACK and strict checking are
    /// enabled when the kernel supports them. Errors: code 100 with errno.
    static Expected<NetlinkSocket> open();
    /// A socket in `ns` (enters it on this thread for the socket() call only).
    static Expected<NetlinkSocket> openIn(const Netns& ns);

    NetlinkSocket(NetlinkSocket&& other) noexcept;
    NetlinkSocket& operator=(NetlinkSocket&& other) noexcept;
    NetlinkSocket(const NetlinkSocket&) = delete;
    NetlinkSocket& operator=(const NetlinkSocket&) = delete;
    ~NetlinkSocket();

    /// The libnl socket, for callers that need a libnl API directly.
    [[nodiscard]] nl_sock* raw() const { return sock_; }

    /// Sends `msg` with NLM_F_ACK and waits for the ack. A kernel error becomes
    /// Error{Kernel, "<what>: <strerror>", details = extended ACK text if any, errnum = errno}.
    Status transact(const NlMsg& msg, std::string_view what);

    /// Sends a request (GET, with or without NLM_F_DUMP) and calls `onReply` for every
    /// reply message until the final ack/DONE. Kernel errors as in transact().
    Status query(const NlMsg& msg, std::string_view what,
                 const std::function<void(const nlmsghdr*)>& onReply);

  private:
    explicit NetlinkSocket(nl_sock* s) : sock_(s) {}
    nl_sock* sock_ = nullptr;
};

} // namespace tether::net
