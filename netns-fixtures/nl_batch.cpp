#include "netns-fixtures/nl_batch.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace tether::fixture {

namespace {

// What one sendmsg carries: libnl sizes its sockets' buffers to 32 KiB (64 KiB once the kernel
// doubles it), and an ack the receive buffer has no room for is dropped, so a chunk is bounded
// in bytes sent and in replies expected (an ack costs ~1, a GETLINK reply skb ~4-8 KiB).
constexpr size_t kChunkBytes = 16 * 1024;
constexpr size_t kChunkWeight = 32; // acks; a request with replies counts kReplyWeight
constexpr size_t kReplyWeight = 4;
// Sequence numbers of batched requests; libnl's own counter starts at the time of day and the
// acks of a batch are all consumed before the socket is used through libnl again.
constexpr uint32_t kSeqBase = 0x7f000000;

/// NLMSGERR_ATTR_MSG of an error carrying extended-ACK TLVs.
std::string extAckText(const nlmsghdr* hdr) {
    auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(hdr));
    if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
    size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
    if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
    if (offset >= hdr->nlmsg_len) return {};
    auto* tlv = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(hdr) + offset);
    int len = static_cast<int>(hdr->nlmsg_len - offset);
    for (; nla_ok(tlv, len); tlv = nla_next(tlv, &len))
        if (nla_type(tlv) == NLMSGERR_ATTR_MSG && nla_len(tlv) > 0) {
            auto* s = static_cast<const char*>(nla_data(tlv));
            return std::string(s, strnlen(s, static_cast<size_t>(nla_len(tlv))));
        }
    return {};
}

} // namespace

void NlBatch::add(net::NlMsg msg, std::string what, std::function<void(const nlmsghdr*)> onReply) {
    items_.push_back({std::move(msg), std::move(what), std::move(onReply)});
}

Status NlBatch::flush() {
    std::vector<Item> items = std::move(items_);
    items_.clear();
    int fd = nl_socket_get_fd(sock_->raw());
    std::optional<Error> first; // the failure of the lowest-numbered request
    size_t firstIndex = items.size();
    std::vector<char> out, in(64 * 1024);
    for (size_t begin = 0, end = 0; begin < items.size(); begin = end) {
        out.clear();
        size_t weight = 0;
        for (end = begin; end < items.size(); ++end) {
            nlmsghdr* h = nlmsg_hdr(items[end].msg.get());
            size_t w = items[end].onReply ? kReplyWeight : 1;
            if (end > begin &&
                (out.size() + h->nlmsg_len > kChunkBytes || weight + w > kChunkWeight))
                break;
            weight += w;
            h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
            h->nlmsg_seq = kSeqBase + static_cast<uint32_t>(end);
            h->nlmsg_pid = 0;
            size_t at = out.size();
            out.resize(at + NLMSG_ALIGN(h->nlmsg_len));
            std::memcpy(out.data() + at, h, h->nlmsg_len);
        }
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        ssize_t sent;
        do {
            sent = ::sendto(fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                            sizeof kernel);
        } while (sent < 0 && errno == EINTR);
        if (sent < 0) return failErrno(items[begin].what + ": send", errno);
        size_t pending = end - begin;
        while (pending > 0) {
            ssize_t n = ::recv(fd, in.data(), in.size(), 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                return failErrno(items[begin].what + ": receive", errno);
            }
            int left = static_cast<int>(n);
            for (auto* h = reinterpret_cast<nlmsghdr*>(in.data()); NLMSG_OK(h, left);
                 h = NLMSG_NEXT(h, left)) {
                if (h->nlmsg_seq < kSeqBase + begin || h->nlmsg_seq >= kSeqBase + end) continue;
                size_t i = h->nlmsg_seq - kSeqBase;
                if (h->nlmsg_type != NLMSG_ERROR) {
                    if (items[i].onReply) items[i].onReply(h);
                    continue;
                }
                --pending;
                int err = -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
                if (err != 0 && i < firstIndex) {
                    firstIndex = i;
                    first = errnoError(items[i].what, err);
                    first->details = extAckText(h);
                }
            }
        }
    }
    if (first) return std::unexpected(std::move(*first));
    return {};
}

} // namespace tether::fixture
