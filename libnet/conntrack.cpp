#include "libnet/conntrack.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "libnet/nf_socket.hpp"

namespace tether::net {

namespace {

struct DumpState {
    uint8_t proto;
    const std::vector<uint16_t>* ports;
    std::vector<std::string> tuples; ///< raw CTA_TUPLE_ORIG payloads to delete
};

// The attribute of `type` among the attributes in [data, data+len).
const nlattr* findAttr(const void* data, size_t len, uint16_t type) {
    auto* a = static_cast<const nlattr*>(data);
    int remaining = int(len);
    while (mnl_attr_ok(a, remaining)) {
        if (mnl_attr_get_type(a) == type) return a;
        remaining -= int(MNL_ALIGN(a->nla_len));
        a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) +
                                            MNL_ALIGN(a->nla_len));
    }
    return nullptr;
}

const nlattr* nested(const nlattr* parent, uint16_t type) {
    return findAttr(mnl_attr_get_payload(parent), mnl_attr_get_payload_len(parent), type);
}

int onEntry(const nlmsghdr* nlh, void* data) {
    auto* st = static_cast<DumpState*>(data);
    const nlattr* orig =
        findAttr(static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + MNL_ALIGN(sizeof(nfgenmsg)),
                 mnl_nlmsg_get_payload_len(nlh) - MNL_ALIGN(sizeof(nfgenmsg)), CTA_TUPLE_ORIG);
    if (!orig) return MNL_CB_OK;
    const nlattr* proto = nested(orig, CTA_TUPLE_PROTO);
    if (!proto) return MNL_CB_OK;
    const nlattr* num = nested(proto, CTA_PROTO_NUM);
    const nlattr* dport = nested(proto, CTA_PROTO_DST_PORT);
    if (!num || !dport || mnl_attr_get_u8(num) != st->proto) return MNL_CB_OK;
    uint16_t port = ntohs(mnl_attr_get_u16(dport));
    if (std::find(st->ports->begin(), st->ports->end(), port) == st->ports->end()) return MNL_CB_OK;
    st->tuples.emplace_back(static_cast<const char*>(mnl_attr_get_payload(orig)),
                            mnl_attr_get_payload_len(orig));
    return MNL_CB_OK;
}

nlmsghdr* header(char* buf, uint16_t msg, uint16_t flags, uint8_t family, uint32_t seq) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    return nlh;
}

Status dump(mnl_socket* s, uint8_t family, DumpState& st) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    uint32_t seq = 1;
    nlmsghdr* nlh = header(buf.data(), IPCTNL_MSG_CT_GET, NLM_F_DUMP, family, seq);
    if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) return failErrno("conntrack dump", errno);
    unsigned portid = mnl_socket_get_portid(s);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(s, buf.data(), buf.size());
        if (n < 0) return failErrno("conntrack dump", errno);
        int rc = mnl_cb_run(buf.data(), size_t(n), seq, portid, onEntry, &st);
        if (rc == MNL_CB_STOP) return {};
        if (rc < 0) return failErrno("conntrack dump", errno);
    }
}

} // namespace

Expected<int> deleteConntrackByDstPort(uint8_t proto, const std::vector<uint16_t>& ports) {
    if (ports.empty()) return 0;
    auto s = TRY(leaseNetfilterSocket("clear conntrack entries"));
    int deleted = 0;
    for (uint8_t family : {uint8_t(AF_INET), uint8_t(AF_INET6)}) {
        DumpState st{proto, &ports, {}};
        auto dumped = dump(s.get(), family, st);
        // No conntrack support in this netns (module not loaded) means nothing to clear.
        if (!dumped && (dumped.error().errnum == ENOENT || dumped.error().errnum == EOPNOTSUPP))
            return 0;
        TRY(std::move(dumped));
        std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
        uint32_t seq = 100;
        for (const auto& tuple : st.tuples) {
            nlmsghdr* nlh = header(buf.data(), IPCTNL_MSG_CT_DELETE, NLM_F_ACK, family, ++seq);
            mnl_attr_put(nlh, CTA_TUPLE_ORIG | NLA_F_NESTED, tuple.size(), tuple.data());
            if (mnl_socket_sendto(s.get(), nlh, nlh->nlmsg_len) < 0)
                return failErrno("conntrack delete", errno);
            ssize_t n = mnl_socket_recvfrom(s.get(), buf.data(), buf.size());
            if (n < 0) return failErrno("conntrack delete", errno);
            int rc = mnl_cb_run(buf.data(), size_t(n), seq, mnl_socket_get_portid(s.get()), nullptr,
                                nullptr);
            if (rc >= 0)
                ++deleted;
            else if (errno != ENOENT)
                return failErrno("conntrack delete", errno);
        }
    }
    return deleted;
}

} // namespace tether::net
