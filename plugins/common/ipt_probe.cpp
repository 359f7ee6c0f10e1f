#include "plugins/common/ipt_probe.hpp"

#include <cerrno>
#include <memory>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

namespace tether::nat::ipt {

bool nftChainsMayExist(net::Family family, const std::string& table,
                       const std::vector<std::string>& chains) {
    struct Closer {
        void operator()(mnl_socket* s) const { mnl_socket_close(s); }
    };
    std::unique_ptr<mnl_socket, Closer> s(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
    if (!s || mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0) return true;
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    unsigned seq = 0;
    for (const auto& chain : chains) {
        nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = ++seq;
        auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
        nfg->nfgen_family = family == net::Family::V4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
        nfg->version = NFNETLINK_V0;
        nfg->res_id = 0;
        mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table.c_str());
        mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, chain.c_str());
        if (mnl_socket_sendto(s.get(), nlh, nlh->nlmsg_len) < 0) return true;
        // Replies: the chain (NEWCHAIN) then the ack, or an error.
        for (;;) {
            ssize_t n = mnl_socket_recvfrom(s.get(), buf.data(), buf.size());
            if (n < 0) return true;
            int rc = mnl_cb_run(buf.data(), size_t(n), seq, mnl_socket_get_portid(s.get()), nullptr, nullptr);
            if (rc == MNL_CB_STOP) return true; // found
            if (rc < 0) {
                if (errno == ENOENT) break;
                return true;
            }
        }
    }
    return false;
}

} // namespace tether::nat::ipt
