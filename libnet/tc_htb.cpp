// The HTB half of libnet/tc: a root HTB qdisc, its classes, and u32 filters that classify by
// subnet. Rates go in the 32-bit fields of tc_ratespec with the 64-bit attributes beside them
// when they do not fit; linklayer ethernet spares the legacy rate tables (the kernel only reads
// TCA_HTB_RTAB for TC_LINKLAYER_UNAWARE).
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstring>

#include "libnet/tc.hpp"

namespace tether::net::tc {

namespace {

constexpr uint32_t kHtbRoot = 0x00010000u; // "1:"
constexpr uint64_t k32 = uint64_t(1) << 32;

std::string dev(int ifindex) {
    return "link #" + std::to_string(ifindex);
}

tcmsg header(int ifindex, uint32_t parent, uint32_t handle, uint32_t info = 0) {
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
    r.rate = rate >= k32 ? ~0u : static_cast<uint32_t>(rate);
    r.linklayer = TC_LINKLAYER_ETHERNET;
    return r;
}

} // namespace

Status addHtb(NetlinkSocket& sock, int ifindex, uint16_t defaultMinor) {
    tcmsg t = header(ifindex, kRootParent, kHtbRoot);
    NlMsg msg = makeMessage(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &t, sizeof(t));
    nla_put_string(msg.get(), TCA_KIND, "htb");
    nlattr* opts = nla_nest_start(msg.get(), TCA_OPTIONS);
    tc_htb_glob g{};
    g.version = 3;
    g.rate2quantum = 10;
    g.defcls = defaultMinor;
    nla_put(msg.get(), TCA_HTB_INIT, sizeof(g), &g);
    nla_nest_end(msg.get(), opts);
    return create(sock, msg, "add htb qdisc to " + dev(ifindex));
}

Status addHtbClass(NetlinkSocket& sock, int ifindex, const HtbClass& cls) {
    tcmsg t = header(ifindex, kHtbRoot, cls.handle);
    NlMsg msg = makeMessage(RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL, &t, sizeof(t));
    nla_put_string(msg.get(), TCA_KIND, "htb");
    nlattr* opts = nla_nest_start(msg.get(), TCA_OPTIONS);
    tc_htb_opt o{};
    o.rate = ratespec(cls.rate);
    o.ceil = ratespec(cls.ceil);
    o.buffer = cls.buffer;
    o.cbuffer = cls.cbuffer;
    nla_put(msg.get(), TCA_HTB_PARMS, sizeof(o), &o);
    if (cls.rate >= k32) nla_put_u64(msg.get(), TCA_HTB_RATE64, cls.rate);
    if (cls.ceil >= k32) nla_put_u64(msg.get(), TCA_HTB_CEIL64, cls.ceil);
    nla_nest_end(msg.get(), opts);
    return create(sock, msg,
                  "add htb class 1:" + std::to_string(cls.handle & 0xFFFF) + " (rate " +
                      std::to_string(cls.rate) + " B/s) to " + dev(ifindex));
}

Expected<std::vector<HtbClass>> listHtbClasses(NetlinkSocket& sock, int ifindex) {
    tcmsg t = header(ifindex, 0, 0);
    NlMsg msg = makeMessage(RTM_GETTCLASS, NLM_F_DUMP, &t, sizeof(t));
    std::vector<HtbClass> out;
    auto st = sock.query(msg, "list classes of " + dev(ifindex), [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWTCLASS) return;
        auto* hdr = const_cast<nlmsghdr*>(h);
        auto* tm = static_cast<const tcmsg*>(nlmsg_data(hdr));
        nlattr* tb[TCA_MAX + 1] = {};
        if (tm->tcm_ifindex != ifindex || nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) ||
            !tb[TCA_KIND] || std::strcmp(nla_get_string(tb[TCA_KIND]), "htb") != 0 ||
            !tb[TCA_OPTIONS])
            return;
        nlattr* o[TCA_HTB_MAX + 1] = {};
        if (nla_parse_nested(o, TCA_HTB_MAX, tb[TCA_OPTIONS], nullptr) != 0 || !o[TCA_HTB_PARMS] ||
            nla_len(o[TCA_HTB_PARMS]) < int(sizeof(tc_htb_opt)))
            return;
        tc_htb_opt p{};
        std::memcpy(&p, nla_data(o[TCA_HTB_PARMS]), sizeof(p));
        HtbClass c{.handle = tm->tcm_handle,
                   .rate = p.rate.rate,
                   .ceil = p.ceil.rate,
                   .buffer = p.buffer,
                   .cbuffer = p.cbuffer};
        if (o[TCA_HTB_RATE64]) c.rate = nla_get_u64(o[TCA_HTB_RATE64]);
        if (o[TCA_HTB_CEIL64]) c.ceil = nla_get_u64(o[TCA_HTB_CEIL64]);
        out.push_back(c);
    });
    if (!st && (st.error().errnum == ENOENT || st.error().errnum == EINVAL)) return out;
    if (!st) return std::unexpected(std::move(st).error());
    return out;
}

Status addSubnetFilter(NetlinkSocket& sock, int ifindex, const IpPrefix& subnet, Match match,
                       uint32_t classHandle) {
    const bool v4 = subnet.family() == Family::V4;
    const uint16_t proto = v4 ? ETH_P_IP : ETH_P_IPV6;
    const uint32_t prio = v4 ? 16 : 15;
    // Offsets of the address in the IP header: IPv4 saddr 12 / daddr 16, IPv6 8 / 24.
    int off = v4 ? (match == Match::Source ? 12 : 16) : (match == Match::Source ? 8 : 24);
    const IpAddress net = subnet.network();
    std::vector<tc_u32_key> keys;
    for (int word = 0, bits = subnet.length(); word < (v4 ? 1 : 4); ++word, bits -= 32, off += 4) {
        if (bits <= 0) break; // the rest of the address is wildcarded
        uint32_t mask = bits >= 32 ? ~0u : ~0u << (32 - bits);
        uint32_t val = 0;
        std::memcpy(&val, net.bytes() + 4 * word, 4);
        tc_u32_key k{};
        k.mask = htonl(mask);
        k.val = val & htonl(mask);
        k.off = off;
        keys.push_back(k);
    }
    if (keys.empty()) keys.push_back(tc_u32_key{}); // a /0: one key of mask 0 matches all
    std::vector<unsigned char> sel(sizeof(tc_u32_sel) + keys.size() * sizeof(tc_u32_key));
    tc_u32_sel head{};
    head.flags = TC_U32_TERMINAL;
    head.nkeys = static_cast<unsigned char>(keys.size());
    std::memcpy(sel.data(), &head, sizeof(head));
    std::memcpy(sel.data() + sizeof(head), keys.data(), keys.size() * sizeof(tc_u32_key));

    tcmsg t = header(ifindex, kHtbRoot, 0, TC_H_MAKE(prio << 16, htons(proto)));
    NlMsg msg = makeMessage(RTM_NEWTFILTER, NLM_F_CREATE, &t, sizeof(t));
    nla_put_string(msg.get(), TCA_KIND, "u32");
    nlattr* opts = nla_nest_start(msg.get(), TCA_OPTIONS);
    nla_put_u32(msg.get(), TCA_U32_CLASSID, classHandle);
    nla_put(msg.get(), TCA_U32_SEL, static_cast<int>(sel.size()), sel.data());
    nla_nest_end(msg.get(), opts);
    return create(sock, msg,
                  "add filter for " +
                      std::string(match == Match::Source ? "source " : "destination ") +
                      subnet.str() + " on " + dev(ifindex));
}

} // namespace tether::net::tc
