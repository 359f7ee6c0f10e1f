#pragma once
// The process's netfilter netlink socket, shared by every nftables, conntrack and probe request,
// and handed to the helper process (libnet/helper_process.hpp) at exit instead of being released.
//
// Why: releasing a bound NETLINK_NETFILTER socket makes the kernel flush nf_tables' pending
// destroy work (deleted set elements wait one RCU grace period, ~12 ms here) while holding the
// netns's nf_tables commit mutex — the mutex every nftables commit and every netdev
// unregistration in that netns (a veth deletion) also takes. A plugin that closed a netfilter
// socket shortly after anyone's deletions would stall for a grace period, and stall the next
// plugin's commit or veth deletion behind it. One socket per process, never closed by the
// plugin, and a helper that closes the sockets it collected once things have been quiet, keep
// that wait off every plugin's path (TETHER_NF_HOLDER=0 switches it off). See docs/latency.md.

#include <libmnl/libmnl.h>

#include <mutex>
#include <string_view>
#include <utility>

#include "base/error.hpp"

namespace tether::net {

/// Exclusive use of a bound NETLINK_NETFILTER socket of the calling thread's netns for the
/// lifetime of the lease. Replies left unread by an earlier user are discarded on acquire.
/// When the thread is in the netns the process's shared socket was opened in, that socket is
/// used (and handed to the helper at exit); otherwise a private socket, closed with the lease.
class NfSocketLease {
  public:
    NfSocketLease(NfSocketLease&& other) noexcept;
    NfSocketLease& operator=(NfSocketLease&&) = delete;
    NfSocketLease(const NfSocketLease&) = delete;
    ~NfSocketLease();
    [[nodiscard]] mnl_socket* get() const { return sock_; }
    [[nodiscard]] unsigned portid() const { return mnl_socket_get_portid(sock_); }

  private:
    friend Expected<NfSocketLease> leaseNetfilterSocket(std::string_view what);
    NfSocketLease(mnl_socket* s, bool shared);
    mnl_socket* sock_ = nullptr;
    bool shared_ = false;
};

/// A lease on the netfilter socket; `what` names the operation in the error when no socket can
/// be opened (e.g. "list set elements").
Expected<NfSocketLease> leaseNetfilterSocket(std::string_view what);

/// Hands the process's shared netfilter socket (if one was opened) to the helper of the calling
/// thread's netns, starting the helper when none runs; closes it in place when that fails or
/// when TETHER_NF_HOLDER switches the hand-off off.
/// Runs at exit by itself (registered with the first lease); callable earlier, then later
/// leases open a new shared socket.
void handOffNetfilterSocket();

} // namespace tether::net
