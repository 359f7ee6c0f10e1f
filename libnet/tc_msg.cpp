#include "libnet/tc_msg.hpp"

#include <sys/socket.h>

#include <cstring>

#include <netlink/msg.h>

namespace tether::net::tc::detail {

std::string dev(int ifindex) {
    return "link #" + std::to_string(ifindex);
}

tcmsg header(int ifindex, uint32_t parent, uint32_t handle, uint32_t info) {
    tcmsg t{};
    t.tcm_family = AF_UNSPEC;
    t.tcm_ifindex = ifindex;
    t.tcm_parent = parent;
    t.tcm_handle = handle;
    t.tcm_info = info;
    return t;
}

Status create(NetlinkSocket& sock, const NlMsg& msg, const std::string& what) {
    auto st = sock.transact(msg, what);
    if (!st && st.error().errnum == EEXIST) {
        Error e = std::move(st).error();
        e.code = Code::Conflict;
        return std::unexpected(std::move(e));
    }
    return st;
}

tc_ratespec ratespec(uint64_t rate) {
    tc_ratespec r{};
    r.rate = needs64(rate) ? ~0u : static_cast<uint32_t>(rate);
    r.linklayer = TC_LINKLAYER_ETHERNET;
    return r;
}

std::vector<unsigned char> u32Selector(const std::vector<tc_u32_key>& keys) {
    std::vector<unsigned char> sel(sizeof(tc_u32_sel) + keys.size() * sizeof(tc_u32_key));
    tc_u32_sel head{};
    head.flags = TC_U32_TERMINAL;
    head.nkeys = static_cast<unsigned char>(keys.size());
    std::memcpy(sel.data(), &head, sizeof(head));
    std::memcpy(sel.data() + sizeof(head), keys.data(), keys.size() * sizeof(tc_u32_key));
    return sel;
}

Status dump(NetlinkSocket& sock, int type, int ifindex, uint32_t parent, const std::string& what,
            bool missingIsEmpty, const DumpReply& onReply) {
    // rtnetlink numbers each family NEW, DEL, GET: a GET is answered with NEW messages.
    static_assert(RTM_GETQDISC - 2 == RTM_NEWQDISC && RTM_GETTCLASS - 2 == RTM_NEWTCLASS &&
                  RTM_GETTFILTER - 2 == RTM_NEWTFILTER);
    const int replyType = type - 2;
    tcmsg t = header(ifindex, parent, 0);
    NlMsg msg = makeMessage(type, NLM_F_DUMP, &t, sizeof(t));
    auto st = sock.query(msg, what, [&](const nlmsghdr* h) {
        if (h->nlmsg_type != replyType) return;
        auto* hdr = const_cast<nlmsghdr*>(h);
        auto* tm = static_cast<const tcmsg*>(nlmsg_data(hdr));
        if (tm->tcm_ifindex != ifindex) return;
        nlattr* tb[TCA_MAX + 1] = {};
        if (nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) != 0) return;
        onReply(*tm, tb);
    });
    if (!st && missingIsEmpty && (st.error().errnum == ENOENT || st.error().errnum == EINVAL))
        return {};
    return st;
}

} // namespace tether::net::tc::detail
