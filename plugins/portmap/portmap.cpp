#include "plugins/portmap/portmap.hpp"

#include <cerrno>

#include <netinet/in.h>
#include <unistd.h>

#include "libnet/conntrack.hpp"
#include "libnet/nft.hpp"
#include "libnet/sysctl.hpp"
#include "plugins/common/nat_table.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::portmap {

using net::Family;
using net::IpPrefix;

namespace {

const std::vector<std::string> kPortSets = {"pm4", "pm4ip", "pm6", "pm6ip", "pmsnat4", "pmsnat6"};

// The container's first IPv4 and IPv6 address: IPs whose interface is CNI_IFNAME in a sandbox.
std::vector<IpPrefix> containerIps(const cni::CmdArgs& args, const cni::Result& prev) {
    std::vector<IpPrefix> out;
    bool have4 = false, have6 = false;
    for (const auto& ip : prev.ips) {
        if (!ip.interface || *ip.interface < 0 || size_t(*ip.interface) >= prev.interfaces.size())
            continue;
        const auto& itf = prev.interfaces[size_t(*ip.interface)];
        if (itf.name != args.ifname || itf.sandbox.empty()) continue;
        auto p = IpPrefix::parse(ip.address);
        if (!p) continue;
        bool& have = p->family() == Family::V4 ? have4 : have6;
        if (have) continue;
        have = true;
        out.push_back(*p);
    }
    return out;
}

struct Plan {
    std::string create; ///< create element ... (fails on a mapping owned by someone else)
    std::string add;    ///< add element ... (snat entries: shared keys are fine)
};

Plan plan(const Config& c, const std::vector<IpPrefix>& ips, const std::string& owner) {
    Plan p;
    const std::string comment = " comment \"" + owner + "\"";
    for (const auto& ip : ips) {
        const std::string fam = ip.family() == Family::V4 ? "4" : "6";
        bool mapped = false;
        for (const auto& m : c.mappings) {
            if (m.hostIP && m.hostIP->family() != ip.family()) continue;
            mapped = true;
            std::string key = (m.hostIP ? m.hostIP->str() + " . " : std::string()) + m.protocol +
                              " . " + std::to_string(m.hostPort);
            p.create += "create element inet tether pm" + fam + (m.hostIP ? "ip" : "") + " { " +
                        key + comment + " : " + ip.address().str() + " . " +
                        std::to_string(m.containerPort) + " }\n";
        }
        if (!mapped) continue;
        std::string src = c.masqAll ? (ip.family() == Family::V4 ? "0.0.0.0/0" : "::/0") : ip.masked().str();
        if (c.snat || c.masqAll)
            p.add += "add element inet tether pmsnat" + fam + " { " + src + " . " +
                     ip.address().str() + comment + " }\n";
    }
    return p;
}

Status removeOwned(net::Nft& nft, const std::string& owner) {
    auto all = TRY(nat::listElements(nft, kPortSets));
    std::vector<nat::Element> mine;
    for (auto& e : all)
        if (e.owner == owner) mine.push_back(std::move(e));
    return nat::deleteElements(nft, mine, "remove port mappings of " + owner);
}

// Explains an EEXIST from `create element`: which mapping, and who owns it.
Error conflict(net::Nft& nft, const Config& c, const Error& original) {
    auto all = nat::listElements(nft, {"pm4", "pm4ip", "pm6", "pm6ip"});
    for (const auto& m : c.mappings)
        if (all)
            for (const auto& e : *all) {
                std::string key = (m.hostIP ? m.hostIP->str() + " . " : std::string()) + m.protocol +
                                  " . " + std::to_string(m.hostPort);
                if (e.key == key)
                    return Error{Code::Conflict, "host port " + m.text() + " is already mapped by " +
                                                     e.owner, original.details, EEXIST};
            }
    return original;
}

// Connections from the host to 127.0.0.1:hostPort must be routable to the container network.
void allowLocalnet(const cni::Result& prev) {
    for (const auto& itf : prev.interfaces)
        if (itf.sandbox.empty() && !itf.name.empty()) {
            (void)net::writeSysctl("net/ipv4/conf/" + itf.name + "/route_localnet", "1");
            return;
        }
}

// Stale UDP flows to a mapped host port would keep bypassing the (new or removed) mapping:
// forget them. Best effort, as in the reference: a failure is logged, not fatal.
void forgetUdpFlows(const Config& c) {
    std::vector<uint16_t> ports;
    for (const auto& m : c.mappings)
        if (m.protocol == "udp") ports.push_back(uint16_t(m.hostPort));
    if (ports.empty()) return;
    if (auto n = net::deleteConntrackByDstPort(IPPROTO_UDP, ports); !n) {
        std::string msg = "portmap: clearing UDP conntrack entries: " + n.error().text() + "\n";
        (void)!::write(2, msg.data(), msg.size());
    }
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "must be called as chained plugin (no prevResult)");
    const cni::Result& prev = *args.conf.prevResult;
    if (c.mappings.empty()) return prev; // nothing to do, touch nothing
    auto ips = containerIps(args, prev);
    if (ips.empty())
        return fail(Code::InvalidConfig, "prevResult has no IP address for interface " + args.ifname);
    auto nft = TRY(net::Nft::open());
    TRY(nat::ensureTable(nft));
    const std::string owner = nat::ownerTag(args.conf.name, args.containerId, args.ifname);
    Plan p = plan(c, ips, owner);
    // One transaction: either every mapping is installed or none.
    if (auto st = nft.run(p.create + p.add, "add port mappings for " + owner); !st) {
        if (st.error().errnum == EEXIST) return std::unexpected(conflict(nft, c, st.error()));
        return std::unexpected(st.error());
    }
    if (c.snat) allowLocalnet(prev);
    forgetUdpFlows(c);
    return prev;
}

Status cmdDel(const cni::CmdArgs& args) {
    auto nft = TRY(net::Nft::open());
    TRY(removeOwned(nft, nat::ownerTag(args.conf.name, args.containerId, args.ifname)));
    if (auto c = parseConfig(args)) forgetUdpFlows(*c);
    return {};
}

Status cmdCheck(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult) return fail(Code::InvalidConfig, "portmap CHECK requires a prevResult");
    if (c.mappings.empty()) return {};
    auto nft = TRY(net::Nft::open());
    const std::string owner = nat::ownerTag(args.conf.name, args.containerId, args.ifname);
    auto all = TRY(nat::listElements(nft, {"pm4", "pm4ip", "pm6", "pm6ip"}));
    for (const auto& m : c.mappings) {
        std::string key = (m.hostIP ? m.hostIP->str() + " . " : std::string()) + m.protocol +
                          " . " + std::to_string(m.hostPort);
        bool found = false;
        for (const auto& e : all) found = found || (e.key == key && e.owner == owner);
        if (!found) return fail(Code::Internal, "port mapping " + m.text() + " of " + owner + " is missing");
    }
    return {};
}

Status cmdGc(const cni::CmdArgs& args) {
    auto nft = TRY(net::Nft::open());
    auto valid = plugin::validAttachments(args.conf.raw);
    std::vector<std::string> keep;
    for (const auto& [cid, ifname] : valid) keep.push_back(nat::ownerTag(args.conf.name, cid, ifname));
    auto all = TRY(nat::listElements(nft, kPortSets));
    std::vector<nat::Element> stale;
    for (auto& e : all) {
        if (e.owner.rfind(nat::networkPrefix(args.conf.name), 0) != 0) continue;
        bool ok = false;
        for (const auto& k : keep) ok = ok || k == e.owner;
        if (!ok) stale.push_back(std::move(e));
    }
    return nat::deleteElements(nft, stale, "gc port mappings of network " + args.conf.name);
}

cni::PluginFuncs pluginFuncs() {
    return {.add = cmdAdd, .del = cmdDel, .check = cmdCheck, .status = {}, .gc = cmdGc};
}

} // namespace tether::portmap
