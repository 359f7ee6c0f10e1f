#include "libnet/rule.hpp"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "libnet/nl_ip_attr.hpp"

namespace tether::net {

namespace {

using detail::afOf;
using detail::getIp;
using detail::putIp;

std::string describe(const Rule& r) {
    std::string s = "rule from " + (r.src ? r.src->str() : std::string("all"));
    s += " lookup " + std::to_string(r.table);
    if (r.priority) s += " priority " + std::to_string(r.priority);
    return s;
}

NlMsg buildRule(int type, int flags, const Rule& r) {
    fib_rule_hdr frh{};
    frh.family = static_cast<uint8_t>(afOf(r.family));
    frh.action = FR_ACT_TO_TBL;
    frh.table = static_cast<uint8_t>(r.table < 256 ? r.table : RT_TABLE_UNSPEC);
    if (r.src) frh.src_len = static_cast<uint8_t>(r.src->length());
    NlMsg msg = makeMessage(type, flags, &frh, sizeof(frh));
    nl_msg* m = msg.get();
    if (r.src) putIp(m, FRA_SRC, r.src->network());
    nla_put_u32(m, FRA_TABLE, r.table);
    if (r.priority) nla_put_u32(m, FRA_PRIORITY, r.priority);
    return msg;
}

Status checkFamily(const Rule& r) {
    if (r.src && r.src->family() != r.family)
        return fail(Code::InvalidConfig, describe(r) + ": source of another address family");
    return {};
}

} // namespace

Status addRule(NetlinkSocket& sock, const Rule& rule) {
    TRY(checkFamily(rule));
    // Without a priority the kernel picks a new one, so NLM_F_EXCL never sees a duplicate.
    if (rule.priority == 0)
        for (const Rule& r : TRY(listRules(sock, rule.family)))
            if (r.table == rule.table && r.src == rule.src) {
                Error e{.code = Code::Conflict, .msg = describe(rule) + ": already exists"};
                e.errnum = EEXIST;
                return std::unexpected(std::move(e));
            }
    auto st = sock.transact(buildRule(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, rule),
                            "add " + describe(rule));
    if (!st && st.error().errnum == EEXIST) {
        Error e = std::move(st).error();
        e.code = Code::Conflict;
        return std::unexpected(std::move(e));
    }
    return st;
}

Expected<bool> deleteRule(NetlinkSocket& sock, const Rule& rule) {
    TRY(checkFamily(rule));
    auto st = sock.transact(buildRule(RTM_DELRULE, 0, rule), "delete " + describe(rule));
    if (!st) {
        int e = st.error().errnum;
        if (e == ENOENT || e == ESRCH) return false;
        return std::unexpected(std::move(st).error());
    }
    return true;
}

Expected<std::vector<Rule>> listRules(NetlinkSocket& sock, Family family) {
    fib_rule_hdr frh{};
    frh.family = static_cast<uint8_t>(afOf(family));
    NlMsg msg = makeMessage(RTM_GETRULE, NLM_F_DUMP, &frh, sizeof(frh));
    std::vector<Rule> out;
    TRY(sock.query(msg, "list rules", [&](const nlmsghdr* hdr) {
        if (hdr->nlmsg_type != RTM_NEWRULE) return;
        auto* h = const_cast<nlmsghdr*>(hdr);
        auto* m = static_cast<fib_rule_hdr*>(nlmsg_data(h));
        if (m->family != afOf(family) || m->action != FR_ACT_TO_TBL) return;
        nlattr* tb[FRA_MAX + 1] = {};
        if (nlmsg_parse(h, sizeof(fib_rule_hdr), tb, FRA_MAX, nullptr) < 0) return;
        Rule r;
        r.family = family;
        r.table = tb[FRA_TABLE] ? nla_get_u32(tb[FRA_TABLE]) : m->table;
        r.priority = tb[FRA_PRIORITY] ? nla_get_u32(tb[FRA_PRIORITY]) : 0;
        if (auto src = getIp(tb[FRA_SRC], family)) r.src = IpPrefix(*src, m->src_len);
        out.push_back(r);
    }));
    return out;
}

} // namespace tether::net
