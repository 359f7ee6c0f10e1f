// What every traffic-control request of libnet/tc is built from (tc.cpp: TBF, ingress, redirect;
// tc_htb.cpp: HTB qdisc, classes, subnet filters): the tcmsg header, the rate field, a u32
// selector, "create" with EEXIST reported as a conflict, and dumps that treat a missing qdisc as
// empty. Internal to libnet: plugins use libnet/tc.hpp.
#pragma once

#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "libnet/netlink.hpp"

namespace tether::net::tc::detail {

/// How an error message names link `ifindex`: "link #<ifindex>".
std::string dev(int ifindex);

/// A tcmsg for link `ifindex` (family AF_UNSPEC) with these parent, handle and info
/// (info: priority << 16 | protocol for filters, 0 otherwise).
tcmsg header(int ifindex, uint32_t parent, uint32_t handle, uint32_t info = 0);

/// Sends a NEW request: the kernel's EEXIST (an object of that handle or kind is there already)
/// becomes code 102 (Conflict) with errnum EEXIST kept; any other error as NetlinkSocket gives it.
Status create(NetlinkSocket& sock, const NlMsg& msg, const std::string& what);

/// A rate in bytes/s for the 32-bit tc_ratespec field: saturated at 2^32-1 (the caller puts the
/// 64-bit attribute beside it when `needs64(rate)`), linklayer ethernet, so the kernel needs no
/// legacy rate table.
tc_ratespec ratespec(uint64_t rate);
/// True when `rate` does not fit the 32-bit field of tc_ratespec.
constexpr bool needs64(uint64_t rate) {
    return rate >= (uint64_t(1) << 32);
}

/// The bytes of TCA_U32_SEL: a terminal selector followed by `keys` (at least one; a single
/// all-zero key matches every packet).
std::vector<unsigned char> u32Selector(const std::vector<tc_u32_key>& keys);

/// One object of a dump: its header and its attributes indexed by TCA_* (TCA_MAX + 1 entries,
/// null where absent).
using DumpReply = std::function<void(const tcmsg& tm, nlattr* const* tb)>;

/// Dumps objects of `type` (RTM_GETQDISC, RTM_GETTCLASS, RTM_GETTFILTER) of link `ifindex` under
/// `parent`, calling `onReply` for each reply of the matching NEW type that belongs to `ifindex`
/// and parses (others are skipped). With `missingIsEmpty`, the kernel's ENOENT or EINVAL (no such
/// qdisc/parent) is success with no replies; otherwise any error is returned.
Status dump(NetlinkSocket& sock, int type, int ifindex, uint32_t parent, const std::string& what,
            bool missingIsEmpty, const DumpReply& onReply);

} // namespace tether::net::tc::detail
