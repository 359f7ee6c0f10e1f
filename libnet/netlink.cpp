#include "libnet/netlink.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <cstdlib>
#include <cstring>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace tether::net {

void NlMsgDeleter::operator()(nl_msg* m) const {
    nlmsg_free(m);
}

NlMsg makeMessage(int type, int flags, const void* hdr, size_t len) {
    NlMsg msg(nlmsg_alloc_simple(type, flags | NLM_F_REQUEST));
    if (!msg ||
        (len > 0 && nlmsg_append(msg.get(), const_cast<void*>(hdr), len, NLMSG_ALIGNTO) < 0))
        std::abort();
    return msg;
}

Expected<NetlinkSocket> NetlinkSocket::open() {
    nl_sock* s = nl_socket_alloc();
    if (!s) return failErrno("allocate netlink socket", ENOMEM);
    NetlinkSocket sock(s);
    int rc = nl_connect(s, NETLINK_ROUTE);
    if (rc < 0)
        return fail(Code::Kernel, std::string("connect rtnetlink socket: ") + nl_geterror(rc));
    int fd = nl_socket_get_fd(s);
    int one = 1;
    // Best effort: kernels without them simply do not give extended error text / filtering.
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
    return sock;
}

Expected<NetlinkSocket> NetlinkSocket::openIn(const Netns& ns) {
    if (ns.isCurrent()) return open();
    NetnsGuard guard(ns);
    if (!guard.ok()) return std::unexpected(guard.error());
    auto sock = open();
    if (!sock) return std::unexpected(sock.error().wrap("in netns " + ns.path()));
    return sock;
}

NetlinkSocket::NetlinkSocket(NetlinkSocket&& other) noexcept
    : sock_(std::exchange(other.sock_, nullptr)) {}

NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&& other) noexcept {
    if (this != &other) {
        if (sock_) nl_socket_free(sock_);
        sock_ = std::exchange(other.sock_, nullptr);
    }
    return *this;
}

NetlinkSocket::~NetlinkSocket() {
    if (sock_) nl_socket_free(sock_); // closes the fd too
}

namespace {

struct ReplyState {
    const std::function<void(const nlmsghdr*)>* onReply = nullptr;
    bool done = false;
    int errnum = 0;
    std::string extack;
};

/// Extracts NLMSGERR_ATTR_MSG from an error message carrying extended-ACK TLVs.
std::string extAckText(const nlmsgerr* e) {
    auto* hdr = reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(e) - NLMSG_HDRLEN);
    if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
    size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
    if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
    if (offset >= hdr->nlmsg_len) return {};
    auto* start = reinterpret_cast<const char*>(hdr) + offset;
    int len = static_cast<int>(hdr->nlmsg_len - offset);
    auto* tlv = reinterpret_cast<const nlattr*>(start);
    for (; nla_ok(tlv, len); tlv = nla_next(tlv, &len)) {
        if (nla_type(tlv) == NLMSGERR_ATTR_MSG && nla_len(tlv) > 0) {
            auto* s = static_cast<const char*>(nla_data(tlv));
            return std::string(s, strnlen(s, nla_len(tlv)));
        }
    }
    return {};
}

int onValid(nl_msg* msg, void* arg) {
    auto* st = static_cast<ReplyState*>(arg);
    if (st->onReply && *st->onReply) (*st->onReply)(nlmsg_hdr(msg));
    return NL_OK;
}

int onFinish(nl_msg*, void* arg) {
    static_cast<ReplyState*>(arg)->done = true;
    return NL_STOP;
}

int onError(sockaddr_nl*, nlmsgerr* e, void* arg) {
    auto* st = static_cast<ReplyState*>(arg);
    st->errnum = -e->error;
    st->extack = extAckText(e);
    st->done = true;
    return NL_STOP;
}

Status exchange(nl_sock* sock, const NlMsg& msg, std::string_view what,
                const std::function<void(const nlmsghdr*)>* onReply) {
    nlmsg_hdr(msg.get())->nlmsg_flags |= NLM_F_ACK;
    int rc = nl_send_auto(sock, msg.get());
    if (rc < 0) return fail(Code::Kernel, std::string(what) + ": send: " + nl_geterror(rc));

    ReplyState st;
    st.onReply = onReply;
    nl_cb* cb = nl_cb_alloc(NL_CB_DEFAULT);
    if (!cb) return failErrno(what, ENOMEM);
    nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, onValid, &st);
    nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, onFinish, &st);
    nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, onFinish, &st);
    nl_cb_err(cb, NL_CB_CUSTOM, onError, &st);
    while (!st.done) {
        rc = nl_recvmsgs(sock, cb);
        if (rc < 0 && !st.done) {
            nl_cb_put(cb);
            return fail(Code::Kernel, std::string(what) + ": receive: " + nl_geterror(rc));
        }
    }
    nl_cb_put(cb);
    if (st.errnum != 0) {
        Error e = errnoError(what, st.errnum);
        e.details = std::move(st.extack);
        return std::unexpected(std::move(e));
    }
    return {};
}

} // namespace

Status NetlinkSocket::transact(const NlMsg& msg, std::string_view what) {
    return exchange(sock_, msg, what, nullptr);
}

Status NetlinkSocket::query(const NlMsg& msg, std::string_view what,
                            const std::function<void(const nlmsghdr*)>& onReply) {
    return exchange(sock_, msg, what, &onReply);
}

} // namespace tether::net
