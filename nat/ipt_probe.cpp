#include "nat/ipt_probe.hpp"

#include <cerrno>
#include <memory>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "libnet/nf_socket.hpp"

namespace tether::nat::ipt {

namespace {

enum class Answer { Exists, Missing, Unknown };

Answer getChain(mnl_socket* s, std::vector<char>& buf, unsigned seq, net::Family family,
                const std::string& table, const std::string& chain) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family == net::Family::V4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table.c_str());
    mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, chain.c_str());
    if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) return Answer::Unknown;
    // Replies: the chain (NEWCHAIN) then the ack, or an error.
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(s, buf.data(), buf.size());
        if (n < 0) return Answer::Unknown;
        int rc = mnl_cb_run(buf.data(), size_t(n), seq, mnl_socket_get_portid(s), nullptr, nullptr);
        if (rc == MNL_CB_STOP) return Answer::Exists;
        if (rc < 0) return errno == ENOENT ? Answer::Missing : Answer::Unknown;
    }
}

} // namespace

std::set<net::Family> nftFamiliesWithChains(const std::vector<net::Family>& families,
                                            const std::string& table,
                                            const std::vector<std::string>& chains) {
    std::set<net::Family> out;
    if (families.empty()) return out;
    auto s = net::leaseNetfilterSocket("probe iptables chains");
    if (!s) return {families.begin(), families.end()};
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    unsigned seq = 0;
    for (auto f : families)
        for (const auto& chain : chains)
            if (getChain(s->get(), buf, ++seq, f, table, chain) != Answer::Missing) {
                out.insert(f);
                break;
            }
    return out;
}

} // namespace tether::nat::ipt
