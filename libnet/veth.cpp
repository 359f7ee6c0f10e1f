#include "libnet/veth.hpp"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/random.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstdio>

namespace tether::net {

std::string randomVethName() {
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r)) r = static_cast<uint32_t>(random());
    char buf[16];
    std::snprintf(buf, sizeof(buf), "veth%08x", r);
    return buf;
}

namespace {

Status putMac(nl_msg* msg, std::string_view mac, std::string_view field) {
    if (mac.empty()) return {};
    auto bytes = parseMac(mac);
    if (!bytes)
        return fail(Code::InvalidConfig,
                    "invalid " + std::string(field) + " \"" + std::string(mac) + "\"");
    nla_put(msg, IFLA_ADDRESS, 6, bytes->data());
    return {};
}

// One TX and one RX queue, given explicitly. A veth runs with one real queue of each anyway, but
// when the counts are not in the request the kernel creates one per CPU and then shrinks the real
// count to 1, which waits for an expedited RCU grace period (~1 ms here) per end.
void putSingleQueue(nl_msg* m) {
    nla_put_u32(m, IFLA_NUM_TX_QUEUES, 1);
    nla_put_u32(m, IFLA_NUM_RX_QUEUES, 1);
}

Expected<NlMsg> buildVeth(const VethSpec& spec, const std::string& hostName) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    NlMsg msg = makeMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    nl_msg* m = msg.get();
    nla_put_string(m, IFLA_IFNAME, hostName.c_str());
    if (spec.mtu) nla_put_u32(m, IFLA_MTU, spec.mtu);
    putSingleQueue(m);
    TRY(putMac(m, spec.hostMac, "host MAC address"));
    nlattr* linkinfo = nla_nest_start(m, IFLA_LINKINFO);
    nla_put_string(m, IFLA_INFO_KIND, "veth");
    nlattr* data = nla_nest_start(m, IFLA_INFO_DATA);
    nlattr* peer = nla_nest_start(m, VETH_INFO_PEER);
    // The peer attribute is an ifinfomsg followed by the peer's own IFLA_* attributes.
    ifinfomsg peerIfi{};
    peerIfi.ifi_family = AF_UNSPEC;
    if (nlmsg_append(m, &peerIfi, sizeof(peerIfi), NLMSG_ALIGNTO) < 0) std::abort();
    nla_put_string(m, IFLA_IFNAME, spec.containerName.c_str());
    if (spec.mtu) nla_put_u32(m, IFLA_MTU, spec.mtu);
    putSingleQueue(m);
    TRY(putMac(m, spec.containerMac, "container MAC address"));
    if (spec.containerNetns)
        nla_put_u32(m, IFLA_NET_NS_FD, static_cast<uint32_t>(spec.containerNetns->fd()));
    nla_nest_end(m, peer);
    nla_nest_end(m, data);
    nla_nest_end(m, linkinfo);
    return msg;
}

} // namespace

Expected<VethPair> createVeth(NetlinkSocket& hostSock, NetlinkSocket& containerSock,
                              const VethSpec& spec) {
    TRY(validateIfName(spec.containerName));
    if (!spec.hostName.empty()) TRY(validateIfName(spec.hostName));
    if (spec.mtu != 0 && spec.mtu < 68)
        return fail(Code::InvalidConfig,
                    "invalid veth MTU " + std::to_string(spec.mtu) + " (minimum 68)");
    if (!spec.hostMac.empty() && !parseMac(spec.hostMac))
        return fail(Code::InvalidConfig, "invalid host MAC address \"" + spec.hostMac + "\"");
    if (!spec.containerMac.empty() && !parseMac(spec.containerMac))
        return fail(Code::InvalidConfig,
                    "invalid container MAC address \"" + spec.containerMac + "\"");

    const bool randomName = spec.hostName.empty();
    std::string hostName;
    for (int attempt = 0;; ++attempt) {
        hostName = randomName ? randomVethName() : spec.hostName;
        NlMsg msg = TRY(buildVeth(spec, hostName));
        auto st = hostSock.transact(msg, "create veth pair " + hostName + "/" + spec.containerName);
        if (st) break;
        Error err = std::move(st).error();
        if (err.errnum != EEXIST) return std::unexpected(std::move(err));
        auto clash = TRY(findLink(containerSock, spec.containerName));
        if (clash) {
            Error e = errnoError("container veth name " + spec.containerName + " already exists",
                                 EEXIST, Code::Conflict);
            e.msg = "container veth name " + spec.containerName + " already exists";
            return std::unexpected(std::move(e));
        }
        if (!randomName || attempt >= 9) {
            err.code = Code::Conflict;
            return std::unexpected(std::move(err).wrap("host veth name " + hostName + " is taken"));
        }
    }

    auto readBack = [&]() -> Expected<VethPair> {
        VethPair pair;
        pair.host = TRY(getLink(hostSock, hostName));
        pair.container = TRY(getLink(containerSock, spec.containerName));
        return pair;
    };
    auto pair = readBack();
    if (!pair) (void)deleteLink(hostSock, hostName);
    return pair;
}

} // namespace tether::net
