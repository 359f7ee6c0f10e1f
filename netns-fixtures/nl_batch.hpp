// Internal to netns-fixtures: pipelined rtnetlink requests on one socket. Requests are queued and
// sent several per sendmsg; the kernel handles them in order and acks each, and flush() collects
// the acks (and any replies) afterwards, so a bring-up step costs one round trip per namespace
// instead of one per request.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "libnet/netlink.hpp"

struct nlmsghdr;

namespace tether::fixture {

class NlBatch {
  public:
    explicit NlBatch(net::NetlinkSocket& sock) : sock_(&sock) {}

    /// Queues `msg` (NLM_F_ACK is added). `what` names it in errors; `onReply` receives the
    /// replies that are not the ack (e.g. the RTM_NEWLINK answering an RTM_GETLINK).
    void add(net::NlMsg msg, std::string what, std::function<void(const nlmsghdr*)> onReply = {});
    [[nodiscard]] bool empty() const { return items_.empty(); }

    /// Sends everything queued and waits for every ack. Requests after a failed one still run
    /// (the kernel does not stop); the first failure in queue order is returned, as
    /// NetlinkSocket::transact would report it. The queue is empty afterwards.
    Status flush();

  private:
    struct Item {
        net::NlMsg msg;
        std::string what;
        std::function<void(const nlmsghdr*)> onReply;
    };
    net::NetlinkSocket* sock_;
    std::vector<Item> items_;
};

} // namespace tether::fixture
