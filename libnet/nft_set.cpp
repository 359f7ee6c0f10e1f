#include "libnet/nft_set.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "libnet/nf_socket.hpp"
#include "libnet/nft.hpp"

namespace tether::net {

namespace {

// libnftnl's user-data TLV type for an element comment (NFTNL_UDATA_SET_ELEM_COMMENT).
constexpr uint8_t kUdataComment = 0;

// Every request goes over the process's shared netfilter socket (see nf_socket.hpp).
Expected<NfSocketLease> openSocket() {
    return leaseNetfilterSocket("nftables");
}

nlmsghdr* putHeader(char* buf, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family,
                    uint16_t resId = 0) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(resId);
    return nlh;
}

uint16_t msgType(int msg) {
    return uint16_t((NFNL_SUBSYS_NFTABLES << 8) | msg);
}

void putData(nlmsghdr* nlh, uint16_t type, const std::vector<uint8_t>& v) {
    nlattr* nest = mnl_attr_nest_start(nlh, type);
    mnl_attr_put(nlh, NFTA_DATA_VALUE, v.size(), v.data());
    mnl_attr_nest_end(nlh, nest);
}

std::vector<uint8_t> commentUdata(const std::string& comment) {
    // nft stores the comment with its terminating NUL; at most 128 bytes.
    std::string c = comment.substr(0, 127);
    std::vector<uint8_t> u = {kUdataComment, uint8_t(c.size() + 1)};
    u.insert(u.end(), c.begin(), c.end());
    u.push_back(0);
    return u;
}

/// Appends one element (key, key end, data, comment) inside an open NFTA_SET_ELEM_LIST_ELEMENTS.
void putElement(nlmsghdr* nlh, const SetElem& e, bool withPayload) {
    nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
    putData(nlh, NFTA_SET_ELEM_KEY, e.key);
    if (!e.keyEnd.empty()) putData(nlh, NFTA_SET_ELEM_KEY_END, e.keyEnd);
    if (withPayload) {
        if (!e.data.empty()) putData(nlh, NFTA_SET_ELEM_DATA, e.data);
        if (!e.comment.empty()) {
            auto u = commentUdata(e.comment);
            mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, u.size(), u.data());
        }
    }
    mnl_attr_nest_end(nlh, elem);
}

/// Calls f(attr) for each attribute in [begin, begin + len).
template <class F> void forEachAttr(const void* begin, size_t len, F&& f) {
    auto* a = static_cast<const nlattr*>(begin);
    int left = int(len);
    while (mnl_attr_ok(a, left)) {
        f(a);
        left -= int(MNL_ALIGN(a->nla_len));
        a = mnl_attr_next(a);
    }
}

template <class F> void forEachNested(const nlattr* nest, F&& f) {
    forEachAttr(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), f);
}

std::vector<uint8_t> dataValue(const nlattr* nested) {
    std::vector<uint8_t> out;
    forEachNested(nested, [&](const nlattr* a) {
        if (mnl_attr_get_type(a) != NFTA_DATA_VALUE) return;
        auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
        out.assign(p, p + mnl_attr_get_payload_len(a));
    });
    return out;
}

std::string commentOf(const nlattr* udata) {
    auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(udata));
    size_t len = mnl_attr_get_payload_len(udata);
    for (size_t i = 0; i + 2 <= len;) {
        uint8_t type = p[i], l = p[i + 1];
        if (i + 2 + l > len) break;
        if (type == kUdataComment) {
            std::string s(reinterpret_cast<const char*>(p + i + 2), l);
            if (!s.empty() && s.back() == '\0') s.pop_back();
            return s;
        }
        i += 2 + l;
    }
    return {};
}

/// Collects the elements of NEWSETELEM messages (dump replies or GET replies).
int collectElements(const nlmsghdr* nlh, void* data) {
    auto* out = static_cast<std::vector<SetElem>*>(data);
    std::string set;
    const nlattr* list = nullptr;
    const size_t hdr = MNL_ALIGN(sizeof(nfgenmsg));
    forEachAttr(static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + hdr,
                mnl_nlmsg_get_payload_len(nlh) - hdr, [&](const nlattr* a) {
                    if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
                        set = static_cast<const char*>(mnl_attr_get_payload(a));
                    if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS) list = a;
                });
    if (!list) return MNL_CB_OK;
    forEachNested(list, [&](const nlattr* item) {
        SetElem e{.set = set};
        forEachNested(item, [&](const nlattr* f) {
            switch (mnl_attr_get_type(f)) {
            case NFTA_SET_ELEM_KEY:
                e.key = dataValue(f);
                break;
            case NFTA_SET_ELEM_KEY_END:
                e.keyEnd = dataValue(f);
                break;
            case NFTA_SET_ELEM_DATA:
                e.data = dataValue(f);
                break;
            case NFTA_SET_ELEM_USERDATA:
                e.comment = commentOf(f);
                break;
            default:
                break;
            }
        });
        out->push_back(std::move(e));
    });
    return MNL_CB_OK;
}

/// Sends one request and runs the replies through `cb` until the final ack/done.
Status request(mnl_socket* s, const nlmsghdr* nlh, mnl_cb_t cb, void* data,
               const std::string& what) {
    if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) return failErrno(what, errno);
    std::vector<char> buf(32768); // a dump message can be up to 32 KiB
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(s, buf.data(), buf.size());
        if (n < 0) return failErrno(what, errno);
        int rc =
            mnl_cb_run(buf.data(), size_t(n), nlh->nlmsg_seq, mnl_socket_get_portid(s), cb, data);
        if (rc == MNL_CB_STOP) return {};
        if (rc < 0)
            return failErrno(what, errno, errno == ENOENT ? Code::UnknownContainer : Code::Kernel);
    }
}

} // namespace

void ConcatBuilder::pad() {
    while (b_.size() % 4)
        b_.push_back(0);
}

ConcatBuilder& ConcatBuilder::addr(const IpAddress& a) {
    b_.insert(b_.end(), a.bytes(), a.bytes() + a.size());
    pad();
    return *this;
}

ConcatBuilder& ConcatBuilder::proto(uint8_t p) {
    b_.push_back(p);
    pad();
    return *this;
}

ConcatBuilder& ConcatBuilder::port(uint16_t p) {
    b_.push_back(uint8_t(p >> 8));
    b_.push_back(uint8_t(p & 0xff));
    pad();
    return *this;
}

Expected<std::vector<SetElem>> listSetElements(uint8_t family, std::string_view table,
                                               std::string_view set) {
    auto s = TRY(openSocket());
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh =
        putHeader(buf.data(), msgType(NFT_MSG_GETSETELEM), NLM_F_DUMP | NLM_F_ACK, 1, family);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, std::string(table).c_str());
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, std::string(set).c_str());
    std::vector<SetElem> out;
    TRY(request(s.get(), nlh, collectElements, &out,
                "list elements of " + std::string(table) + " " + std::string(set)));
    return out;
}

Expected<std::vector<SetElem>> getSetElements(uint8_t family, std::string_view table,
                                              const std::vector<SetElem>& keys) {
    std::vector<SetElem> out;
    if (keys.empty()) return out;
    auto s = TRY(openSocket());
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    uint32_t seq = 1;
    for (const auto& k : keys) {
        nlmsghdr* nlh =
            putHeader(buf.data(), msgType(NFT_MSG_GETSETELEM), NLM_F_ACK, seq++, family);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, std::string(table).c_str());
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, k.set.c_str());
        nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
        putElement(nlh, k, false);
        mnl_attr_nest_end(nlh, list);
        auto st = request(s.get(), nlh, collectElements, &out, "get element of " + k.set);
        if (!st && st.error().errnum != ENOENT) return std::unexpected(st.error());
    }
    return out;
}

Status commitSetElements(uint8_t family, std::string_view table, const SetChanges& changes,
                         std::string_view what) {
    const auto& [del, create, add] = changes;
    const size_t total = del.size() + create.size() + add.size();
    if (total == 0) return {};
    auto s = TRY(openSocket());
    std::vector<char> buf(std::max<size_t>(MNL_SOCKET_BUFFER_SIZE, 512 * (total + 2)));
    mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size());
    uint32_t seq = 1;
    const std::string tableName(table);
    // Which element a sequence number stands for, to name it in an error.
    std::vector<const SetElem*> bySeq(1, nullptr);
    auto next = [&] { mnl_nlmsg_batch_next(batch); };
    putHeader(static_cast<char*>(mnl_nlmsg_batch_current(batch)), NFNL_MSG_BATCH_BEGIN, 0, seq++,
              AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    bySeq.push_back(nullptr);
    next();
    auto put = [&](const SetElem& e, int type, uint16_t flags, bool payload) {
        nlmsghdr* nlh = putHeader(static_cast<char*>(mnl_nlmsg_batch_current(batch)), msgType(type),
                                  uint16_t(NLM_F_ACK | flags), seq++, family);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, tableName.c_str());
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, e.set.c_str());
        nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
        putElement(nlh, e, payload);
        mnl_attr_nest_end(nlh, list);
        bySeq.push_back(&e);
        next();
    };
    for (const auto& e : del)
        put(e, NFT_MSG_DELSETELEM, 0, false);
    for (const auto& e : create)
        put(e, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, true);
    for (const auto& e : add)
        put(e, NFT_MSG_NEWSETELEM, NLM_F_CREATE, true);
    putHeader(static_cast<char*>(mnl_nlmsg_batch_current(batch)), NFNL_MSG_BATCH_END, 0, seq++,
              AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    next();
    if (mnl_socket_sendto(s.get(), mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch)) < 0) {
        int err = errno;
        mnl_nlmsg_batch_stop(batch);
        return failErrno(std::string(what), err);
    }
    mnl_nlmsg_batch_stop(batch);

    // The kernel handles the whole batch inside sendto: every ack/error is queued by now. The
    // first error names the element (by sequence number); any error aborted the transaction.
    int firstErr = 0;
    const SetElem* failed = nullptr;
    std::vector<char> rbuf(MNL_SOCKET_BUFFER_SIZE);
    for (;;) {
        ssize_t n = ::recv(mnl_socket_get_fd(s.get()), rbuf.data(), rbuf.size(), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0) return failErrno(std::string(what), errno);
        int left = int(n);
        for (auto* nlh = reinterpret_cast<nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(nlh, left);
             nlh = mnl_nlmsg_next(nlh, &left)) {
            if (nlh->nlmsg_type != NLMSG_ERROR) continue;
            auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
            if (e->error != 0 && !firstErr) {
                firstErr = -e->error;
                failed = nlh->nlmsg_seq < bySeq.size() ? bySeq[nlh->nlmsg_seq] : nullptr;
            }
        }
    }
    if (!firstErr) return {};
    std::string msg = std::string(what) + ": " + std::strerror(firstErr);
    if (failed) msg += " (set " + failed->set + ")";
    Error err{firstErr == EEXIST ? Code::Conflict : Code::Kernel, msg, "", firstErr};
    return std::unexpected(std::move(err));
}

} // namespace tether::net
