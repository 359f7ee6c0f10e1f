#include "libnet/tc.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstdio>
#include <cstring>

#include "libnet/tc_msg.hpp"

namespace tether::net::tc {

using detail::create;
using detail::dev;
using detail::header;

namespace {

constexpr double kTimeUnitsPerSec = 1000000.0;

std::optional<TbfParams> parseTbf(nlattr* options) {
    if (!options) return std::nullopt;
    nlattr* tb[TCA_TBF_MAX + 1] = {};
    if (nla_parse_nested(tb, TCA_TBF_MAX, options, nullptr) != 0 || !tb[TCA_TBF_PARMS] ||
        nla_len(tb[TCA_TBF_PARMS]) < static_cast<int>(sizeof(tc_tbf_qopt)))
        return std::nullopt;
    tc_tbf_qopt q{};
    std::memcpy(&q, nla_data(tb[TCA_TBF_PARMS]), sizeof(q));
    TbfParams p{.rate = q.rate.rate, .buffer = q.buffer, .limit = q.limit};
    if (tb[TCA_TBF_RATE64]) p.rate = nla_get_u64(tb[TCA_TBF_RATE64]);
    return p;
}

// The default class minor of an HTB qdisc's options, 0 when absent.
uint32_t htbDefault(nlattr* options) {
    nlattr* tb[TCA_HTB_MAX + 1] = {};
    if (!options || nla_parse_nested(tb, TCA_HTB_MAX, options, nullptr) != 0 || !tb[TCA_HTB_INIT] ||
        nla_len(tb[TCA_HTB_INIT]) < static_cast<int>(sizeof(tc_htb_glob)))
        return 0;
    tc_htb_glob g{};
    std::memcpy(&g, nla_data(tb[TCA_HTB_INIT]), sizeof(g));
    return g.defcls;
}

// The first mirred action of a u32 filter's TCA_U32_ACT that redirects to an egress.
int redirectTarget(nlattr* acts) {
    if (!acts) return 0;
    nlattr* a[TCA_ACT_MAX_PRIO + 1] = {};
    if (nla_parse_nested(a, TCA_ACT_MAX_PRIO, acts, nullptr) != 0) return 0;
    for (int i = 1; i <= TCA_ACT_MAX_PRIO; ++i) {
        if (!a[i]) continue;
        nlattr* act[TCA_ACT_MAX + 1] = {};
        if (nla_parse_nested(act, TCA_ACT_MAX, a[i], nullptr) != 0 || !act[TCA_ACT_KIND] ||
            std::strcmp(nla_get_string(act[TCA_ACT_KIND]), "mirred") != 0 || !act[TCA_ACT_OPTIONS])
            continue;
        nlattr* m[TCA_MIRRED_MAX + 1] = {};
        if (nla_parse_nested(m, TCA_MIRRED_MAX, act[TCA_ACT_OPTIONS], nullptr) != 0 ||
            !m[TCA_MIRRED_PARMS] || nla_len(m[TCA_MIRRED_PARMS]) < int(sizeof(tc_mirred)))
            continue;
        tc_mirred parms{};
        std::memcpy(&parms, nla_data(m[TCA_MIRRED_PARMS]), sizeof(parms));
        if (parms.eaction == TCA_EGRESS_REDIR) return static_cast<int>(parms.ifindex);
    }
    return 0;
}

} // namespace

Expected<double> ticksPerUsec() {
    int fd = ::open("/proc/net/psched", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return failErrno("open /proc/net/psched", errno, Code::IoFailure);
    char buf[128] = {};
    ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    unsigned t2us = 0, us2t = 0, res = 0, hz = 0;
    if (n <= 0 || std::sscanf(buf, "%x %x %x %x", &t2us, &us2t, &res, &hz) != 4 || us2t == 0)
        return fail(Code::IoFailure, "cannot parse /proc/net/psched");
    // A clock resolution of 1 GHz means t2us is really in nanoseconds (tc's compatibility rule).
    if (res == 1000000000u) t2us = us2t;
    double clockFactor = double(res) / kTimeUnitsPerSec;
    return double(t2us) / double(us2t) * clockFactor;
}

TbfParams tbfParams(uint64_t rateBits, uint64_t burstBits, double ticks, uint32_t latencyMs) {
    uint64_t rate = rateBits / 8;
    auto burst = static_cast<uint32_t>(burstBits / 8);
    auto usec = static_cast<uint32_t>(double(burst) * kTimeUnitsPerSec / double(rate));
    auto buffer = static_cast<uint32_t>(double(usec) * ticks);
    double latency = kTimeUnitsPerSec * (double(latencyMs) / 1000.0);
    auto limit = static_cast<uint32_t>(double(rate) * latency / kTimeUnitsPerSec) + burst;
    return {.rate = rate, .buffer = buffer, .limit = limit};
}

Status addTbf(NetlinkSocket& sock, int ifindex, const TbfParams& tbf) {
    tcmsg t = header(ifindex, kRootParent, kTbfHandle);
    NlMsg msg = makeMessage(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &t, sizeof(t));
    nla_put_string(msg.get(), TCA_KIND, "tbf");
    nlattr* opts = nla_nest_start(msg.get(), TCA_OPTIONS);
    tc_tbf_qopt q{};
    q.rate = detail::ratespec(tbf.rate);
    q.limit = tbf.limit;
    q.buffer = tbf.buffer;
    nla_put(msg.get(), TCA_TBF_PARMS, sizeof(q), &q);
    if (detail::needs64(tbf.rate)) nla_put_u64(msg.get(), TCA_TBF_RATE64, tbf.rate);
    nla_nest_end(msg.get(), opts);
    return create(sock, msg,
                  "add tbf qdisc (rate " + std::to_string(tbf.rate) + " B/s) to " + dev(ifindex));
}

Status addIngress(NetlinkSocket& sock, int ifindex) {
    tcmsg t = header(ifindex, kIngressParent, kIngressHandle);
    NlMsg msg = makeMessage(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &t, sizeof(t));
    nla_put_string(msg.get(), TCA_KIND, "ingress");
    return create(sock, msg, "add ingress qdisc to " + dev(ifindex));
}

Status addRedirectFilter(NetlinkSocket& sock, int ifindex, int targetIndex) {
    constexpr uint32_t prio = 1;
    tcmsg t = header(ifindex, kIngressHandle, 0, TC_H_MAKE(prio << 16, htons(ETH_P_ALL)));
    NlMsg msg = makeMessage(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, &t, sizeof(t));
    nla_put_string(msg.get(), TCA_KIND, "u32");
    nlattr* opts = nla_nest_start(msg.get(), TCA_OPTIONS);
    nla_put_u32(msg.get(), TCA_U32_CLASSID, TC_H_MAKE(1u << 16, 1u));
    // One key with mask 0 at offset 0: every packet matches.
    const std::vector<unsigned char> sel = detail::u32Selector({tc_u32_key{}});
    nla_put(msg.get(), TCA_U32_SEL, static_cast<int>(sel.size()), sel.data());
    nlattr* acts = nla_nest_start(msg.get(), TCA_U32_ACT);
    nlattr* act = nla_nest_start(msg.get(), 1);
    nla_put_string(msg.get(), TCA_ACT_KIND, "mirred");
    nlattr* aopts = nla_nest_start(msg.get(), TCA_ACT_OPTIONS);
    tc_mirred m{};
    m.action = TC_ACT_STOLEN;
    m.eaction = TCA_EGRESS_REDIR;
    m.ifindex = static_cast<uint32_t>(targetIndex);
    nla_put(msg.get(), TCA_MIRRED_PARMS, sizeof(m), &m);
    nla_nest_end(msg.get(), aopts);
    nla_nest_end(msg.get(), act);
    nla_nest_end(msg.get(), acts);
    nla_nest_end(msg.get(), opts);
    return create(sock, msg,
                  "add redirect filter from " + dev(ifindex) + " to " + dev(targetIndex));
}

Expected<std::vector<Qdisc>> listQdiscs(NetlinkSocket& sock, int ifindex) {
    std::vector<Qdisc> out;
    auto onReply = [&](const tcmsg& tm, nlattr* const* tb) {
        Qdisc q{.kind = tb[TCA_KIND] ? nla_get_string(tb[TCA_KIND]) : "",
                .handle = tm.tcm_handle,
                .parent = tm.tcm_parent,
                .tbf = std::nullopt};
        if (q.kind == "tbf") q.tbf = parseTbf(tb[TCA_OPTIONS]);
        if (q.kind == "htb") q.htbDefault = htbDefault(tb[TCA_OPTIONS]);
        out.push_back(std::move(q));
    };
    TRY(detail::dump(sock, RTM_GETQDISC, ifindex, 0, "list qdiscs of " + dev(ifindex), false,
                     onReply));
    return out;
}

Expected<std::vector<Filter>> listFilters(NetlinkSocket& sock, int ifindex, uint32_t parent) {
    std::vector<Filter> out;
    auto onReply = [&](const tcmsg& tm, nlattr* const* tb) {
        Filter f;
        f.kind = tb[TCA_KIND] ? nla_get_string(tb[TCA_KIND]) : "";
        f.priority = static_cast<uint16_t>(TC_H_MAJ(tm.tcm_info) >> 16);
        f.protocol = ntohs(static_cast<uint16_t>(TC_H_MIN(tm.tcm_info)));
        nlattr* u[TCA_U32_MAX + 1] = {};
        if (f.kind == "u32" && tb[TCA_OPTIONS] &&
            nla_parse_nested(u, TCA_U32_MAX, tb[TCA_OPTIONS], nullptr) == 0) {
            if (u[TCA_U32_SEL] &&
                nla_len(u[TCA_U32_SEL]) >= int(sizeof(tc_u32_sel) + sizeof(tc_u32_key))) {
                auto* sel = static_cast<const tc_u32_sel*>(nla_data(u[TCA_U32_SEL]));
                f.matchAll = sel->nkeys == 1 && sel->keys[0].mask == 0;
            }
            f.redirectTo = redirectTarget(u[TCA_U32_ACT]);
        }
        if (!u[TCA_U32_SEL] && f.kind == "u32") return; // the hash table node, not a rule
        out.push_back(std::move(f));
    };
    // No such qdisc: no filters.
    TRY(detail::dump(sock, RTM_GETTFILTER, ifindex, parent, "list filters of " + dev(ifindex), true,
                     onReply));
    return out;
}

Expected<bool> deleteQdisc(NetlinkSocket& sock, int ifindex, uint32_t parent) {
    tcmsg t = header(ifindex, parent, 0);
    NlMsg msg = makeMessage(RTM_DELQDISC, 0, &t, sizeof(t));
    std::string where = parent == kIngressParent ? "ingress" : "root";
    auto st = sock.transact(msg, "delete " + where + " qdisc of " + dev(ifindex));
    if (st) return true;
    if (st.error().errnum == ENOENT || st.error().errnum == ENODEV) return false;
    return std::unexpected(std::move(st).error());
}

} // namespace tether::net::tc
