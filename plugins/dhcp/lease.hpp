// One DHCP client: a lease acquired for one attachment (container ID + network + ifname) inside
// the container's netns, kept alive by a thread that renews at T1 (unicast to the server) and
// rebinds at T2 (broadcast), and released on DEL. A NAK, a changed address or expiry without an
// ACK loses the lease: the thread stops and the lease reports itself dead.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "cni/result.hpp"
#include "plugins/dhcp/dhcp_message.hpp"
#include "plugins/dhcp/dhcp_socket.hpp"

namespace tether::dhcp {

/// What one client is asked for, and how patient it is.
struct LeaseParams {
    std::string clientId; ///< the lease key (logs)
    std::string netns;    ///< absolute path of the container's netns
    std::string ifname;
    std::vector<uint8_t> paramRequest;               ///< option 55
    std::map<uint8_t, std::vector<uint8_t>> provide; ///< sent in every message (incl. 61)
    bool broadcast = false;                          ///< BOOTP broadcast flag
    int timeoutMs = 10'000;                          ///< acquisition deadline
    int resendMaxMs = 62'000;                        ///< longest gap between retransmissions
};

/// The address and options of an ACK, and when they run out.
struct LeaseState {
    ServerMessage ack;
    Ip4 address = 0;
    Ip4 server = 0;
    std::array<uint8_t, 6> serverMac{}; ///< link-layer source of the ACK
    int64_t acquiredMs = 0;             ///< monotonicMs() of the ACK
    uint32_t leaseSec = 0, t1Sec = 0, t2Sec = 0;
};

/// The CNI result of an ACK: ips[0] with the address/prefix (option 1, else the class's
/// prefix) and the first router as gateway, routes per leaseRoutes(), dns from options 6 and 15.
cni::Result resultOf(const ServerMessage& ack);

class Lease {
  public:
    /// Opens the sockets in `params.netns` (waiting for the interface) and runs
    /// DISCOVER/OFFER/REQUEST/ACK, retransmitting with exponential backoff (250 ms doubling, at
    /// most resendMaxMs) until `timeoutMs`. A NAK restarts from DISCOVER. Errors: no lease in
    /// time -> code 11 "no DHCP lease for <ifname> in <netns> within <n> ms"; netns/interface
    /// errors as DhcpSocket::open. On success the renewal thread is running.
    static Expected<std::unique_ptr<Lease>> acquire(const LeaseParams& params);

    /// Stops the renewal thread (no RELEASE).
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    /// Stops the renewal thread and, while the lease is alive, sends a RELEASE to the server
    /// (unicast, framed to the server's MAC). Idempotent.
    void release();

    /// False once the lease was lost (NAK, expiry, changed address) or released.
    [[nodiscard]] bool alive() const;
    /// A copy of the current lease (updated by each renewal).
    [[nodiscard]] LeaseState state() const;
    [[nodiscard]] const LeaseParams& params() const { return params_; }
    /// Number of renewals/rebinds that got an ACK (tests and logs).
    [[nodiscard]] unsigned renewals() const;

  private:
    Lease(LeaseParams params, DhcpSocket sock, LeaseState state);
    void maintain();
    // One REQUEST (renew when `rebind` is false) and its answer within `waitMs`: true on ACK.
    // Sets lost_ on NAK.
    bool refresh(bool rebind, int waitMs);
    ClientMessage message(MsgType type, uint32_t xid) const;

    LeaseParams params_;
    DhcpSocket sock_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    LeaseState state_;
    bool stop_ = false, lost_ = false, released_ = false;
    unsigned renewals_ = 0;
    std::thread thread_;
};

} // namespace tether::dhcp
