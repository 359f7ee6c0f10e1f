// Traffic control over rtnetlink: token bucket (TBF) root qdiscs, the ingress qdisc, a u32
// match-all filter that redirects every packet to another device (mirred egress redirect), and
// dumps of qdiscs/filters to verify them. "Not found" is an outcome: deleteQdisc returns false.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"
#include "libnet/netlink.hpp"

namespace tether::net::tc {

constexpr uint32_t kRootParent = 0xFFFFFFFFu;    ///< TC_H_ROOT
constexpr uint32_t kIngressParent = 0xFFFFFFF1u; ///< TC_H_INGRESS
constexpr uint32_t kTbfHandle = 0x00010000u;     ///< "1:", the handle of our root TBF
constexpr uint32_t kIngressHandle = 0xFFFF0000u; ///< "ffff:", the ingress qdisc

/// A TBF configuration in the kernel's units.
struct TbfParams {
    uint64_t rate = 0;   ///< bytes per second
    uint32_t buffer = 0; ///< bucket size as transmit time, in psched ticks
    uint32_t limit = 0;  ///< bytes that may wait in the queue
    bool operator==(const TbfParams&) const = default;
};

/// Ticks per microsecond of the packet scheduler clock, from /proc/net/psched (t2us / us2t
/// scaled by the clock resolution), as tc and the reference compute it. Code 5 when the file
/// cannot be read or parsed.
Expected<double> ticksPerUsec();

/// The TBF for `rateBits` bits/s and `burstBits` bits with `latencyMs` of queue, computed the way
/// the reference bandwidth plugin does (rate and burst in bytes, buffer = burst transmit time in
/// ticks, limit = rate x latency + burst, each step truncated as there). rateBits must be > 0.
TbfParams tbfParams(uint64_t rateBits, uint64_t burstBits, double ticksPerUsec,
                    uint32_t latencyMs = 25);

/// Adds a TBF root qdisc with handle 1: (NLM_F_EXCL). An existing root qdisc other than the
/// default is code 102 errnum EEXIST.
Status addTbf(NetlinkSocket& sock, int ifindex, const TbfParams& tbf);
/// Adds the ingress qdisc (handle ffff:). An existing one is code 102 errnum EEXIST.
Status addIngress(NetlinkSocket& sock, int ifindex);
/// Adds, under the ingress qdisc of `ifindex`, a u32 filter (priority 1, every protocol) that
/// matches every packet and redirects it to the egress of `targetIndex` (mirred, stolen).
Status addRedirectFilter(NetlinkSocket& sock, int ifindex, int targetIndex);

/// HTB for traffic split by address (the reference's shapedSubnets/unshapedSubnets): a root HTB
/// qdisc 1: whose default class is `defaultMinor`, a shaped class 1:`kShapedMinor` (rate, buffer,
/// ceil = 2 x rate as the reference), an uncapped class 1:`kUnshapedMinor` (kUncappedRate).
constexpr uint16_t kShapedMinor = 48;
constexpr uint16_t kUnshapedMinor = 1;
constexpr uint64_t kUncappedRate = 100'000'000'000ull; ///< bytes/s
/// Adds the root HTB qdisc 1: (NLM_F_EXCL, code 102 when one exists) with default class
/// 1:`defaultMinor`.
Status addHtb(NetlinkSocket& sock, int ifindex, uint16_t defaultMinor);
/// One HTB class as configured or dumped.
struct HtbClass {
    uint32_t handle = 0;
    uint64_t rate = 0, ceil = 0;      ///< bytes per second
    uint32_t buffer = 0, cbuffer = 0; ///< psched ticks
};
/// Adds class `cls.handle` under the HTB qdisc 1: of `ifindex`.
Status addHtbClass(NetlinkSocket& sock, int ifindex, const HtbClass& cls);
/// The classes of the root HTB qdisc of `ifindex` (empty when there is none).
Expected<std::vector<HtbClass>> listHtbClasses(NetlinkSocket& sock, int ifindex);
/// Which address of the packet a subnet filter looks at.
enum class Match { Source, Destination };
/// Adds under qdisc 1: a u32 filter sending packets whose source or destination address is in
/// `subnet` (IPv4: protocol ETH_P_IP, priority 16; IPv6: ETH_P_IPV6, priority 15, as the
/// reference) to class `classHandle`.
Status addSubnetFilter(NetlinkSocket& sock, int ifindex, const IpPrefix& subnet, Match match,
                       uint32_t classHandle);

/// One qdisc from a dump.
struct Qdisc {
    std::string kind; ///< "tbf", "ingress", "noqueue", ...
    uint32_t handle = 0;
    uint32_t parent = 0;
    std::optional<TbfParams> tbf; ///< for kind "tbf"
    uint32_t htbDefault = 0;      ///< for kind "htb": minor of the default class
};
/// The qdiscs of link `ifindex`.
Expected<std::vector<Qdisc>> listQdiscs(NetlinkSocket& sock, int ifindex);

/// One filter from a dump.
struct Filter {
    std::string kind; ///< "u32", ...
    uint16_t priority = 0;
    uint16_t protocol = 0; ///< host byte order (ETH_P_ALL = 3)
    bool matchAll = false; ///< u32 with one key of mask 0 (matches every packet)
    int redirectTo = 0;    ///< ifindex of the first mirred egress redirect action, 0 if none
};
/// The filters of link `ifindex` under qdisc/class `parent` (e.g. kIngressHandle).
Expected<std::vector<Filter>> listFilters(NetlinkSocket& sock, int ifindex, uint32_t parent);

/// Deletes the qdisc attached at `parent` (kRootParent or kIngressParent) of `ifindex`, with its
/// filters. Returns false when there was none (or only the kernel's default one).
Expected<bool> deleteQdisc(NetlinkSocket& sock, int ifindex, uint32_t parent);

} // namespace tether::net::tc
