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
#include "libnet/tc_msg.hpp"

namespace tether::net::tc {

using detail::create;
using detail::dev;
using detail::header;
using detail::ratespec;

constexpr uint32_t kHtbRoot = 0x00010000u; // "1:"

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
    if (detail::needs64(cls.rate)) nla_put_u64(msg.get(), TCA_HTB_RATE64, cls.rate);
    if (detail::needs64(cls.ceil)) nla_put_u64(msg.get(), TCA_HTB_CEIL64, cls.ceil);
    nla_nest_end(msg.get(), opts);
    return create(sock, msg,
                  "add htb class 1:" + std::to_string(cls.handle & 0xFFFF) + " (rate " +
                      std::to_string(cls.rate) + " B/s) to " + dev(ifindex));
}

Expected<std::vector<HtbClass>> listHtbClasses(NetlinkSocket& sock, int ifindex) {
    std::vector<HtbClass> out;
    auto onReply = [&](const tcmsg& tm, nlattr* const* tb) {
        if (!tb[TCA_KIND] || std::strcmp(nla_get_string(tb[TCA_KIND]), "htb") != 0 ||
            !tb[TCA_OPTIONS])
            return;
        nlattr* o[TCA_HTB_MAX + 1] = {};
        if (nla_parse_nested(o, TCA_HTB_MAX, tb[TCA_OPTIONS], nullptr) != 0 || !o[TCA_HTB_PARMS] ||
            nla_len(o[TCA_HTB_PARMS]) < int(sizeof(tc_htb_opt)))
            return;
        tc_htb_opt p{};
        std::memcpy(&p, nla_data(o[TCA_HTB_PARMS]), sizeof(p));
        HtbClass c{.handle = tm.tcm_handle,
                   .rate = p.rate.rate,
                   .ceil = p.ceil.rate,
                   .buffer = p.buffer,
                   .cbuffer = p.cbuffer};
        if (o[TCA_HTB_RATE64]) c.rate = nla_get_u64(o[TCA_HTB_RATE64]);
        if (o[TCA_HTB_CEIL64]) c.ceil = nla_get_u64(o[TCA_HTB_CEIL64]);
        out.push_back(c);
    };
    TRY(detail::dump(sock, RTM_GETTCLASS, ifindex, 0, "list classes of " + dev(ifindex), true,
                     onReply));
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
    const std::vector<unsigned char> sel = detail::u32Selector(keys);

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
