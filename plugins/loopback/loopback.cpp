#include "plugins/loopback/loopback.hpp"

#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "libnet/netlink.hpp"
#include "libnet/netns.hpp"

namespace tether::loopback {

namespace {

constexpr std::string_view kLo = "lo";

bool isLoopbackAddress(const net::IpAddress& a) {
    if (a.isV4()) return a.bytes()[0] == 127;
    return a == *net::IpAddress::parse("::1");
}

struct Lo {
    net::NetlinkSocket sock;
    net::LinkInfo link;
};

/// A netlink socket inside `netnsPath` plus the lo link there.
Expected<Lo> openLo(const std::string& netnsPath) {
    auto ns = TRY(net::Netns::open(netnsPath));
    auto sock = TRY(net::NetlinkSocket::openIn(ns));
    auto link = net::getLink(sock, kLo);
    if (!link) return std::unexpected(link.error().wrap("in netns " + netnsPath));
    return Lo{std::move(sock), std::move(*link)};
}

} // namespace

Expected<cni::Result> add(const cni::CmdArgs& args) {
    Lo lo = TRY(openLo(args.netns));
    if (!lo.link.up) TRY(net::setLinkUp(lo.sock, lo.link.index, true));
    auto addrs = TRY(net::listAddresses(lo.sock, lo.link.index));

    std::optional<net::IpPrefix> v4, v6;
    for (const auto& a : addrs) {
        const net::IpAddress& ip = a.prefix.address();
        if (!isLoopbackAddress(ip))
            return fail(Code::Kernel,
                        "loopback interface found with non-loopback address \"" + ip.str() + "\"");
        auto& slot = ip.isV4() ? v4 : v6;
        if (!slot) slot = a.prefix;
    }
    if (args.conf.prevResult) return *args.conf.prevResult;

    cni::Result r;
    r.cniVersion = args.conf.cniVersion;
    r.interfaces.push_back(
        {.name = std::string(kLo), .mac = "00:00:00:00:00:00", .sandbox = args.netns});
    for (const auto& p : {v4, v6})
        if (p) r.ips.push_back({.address = p->str(), .gateway = {}, .interface = 0});
    return r;
}

Status del(const cni::CmdArgs& args) {
    if (args.netns.empty()) return {};
    auto ns = TRY(net::Netns::openIfExists(args.netns));
    // The container is gone (or DEL ran twice): nothing left to undo.
    if (!ns) return {};
    auto sock = TRY(net::NetlinkSocket::openIn(*ns));
    auto link = TRY(net::findLink(sock, kLo));
    if (!link || !link->up) return {};
    return net::setLinkUp(sock, link->index, false);
}

Status check(const cni::CmdArgs& args) {
    Lo lo = TRY(openLo(args.netns));
    if (!lo.link.up) return fail(Code::Kernel, "loopback interface is down");
    return {};
}

cni::PluginFuncs pluginFuncs() {
    return {.add = add, .del = del, .check = check, .status = {}, .gc = {}};
}

} // namespace tether::loopback
