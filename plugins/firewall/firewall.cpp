#include "plugins/firewall/firewall.hpp"

#include "base/error_list.hpp"
#include "libnet/nft.hpp"
#include "nat/firewall_dbus.hpp"
#include "nat/firewall_ipt.hpp"
#include "nat/firewall_nft.hpp"
#include "nat/ipt.hpp"
#include "nat/nat_table.hpp"
#include "plugins/iface/nat.hpp"

namespace tether::firewall {

namespace {

using nat::fw::Attachment;
using nat::fw::NftScope;
using nat::fw::Policy;

// nftables: our tables hold the isolation; forwarded traffic is accepted by the reference's
// iptables rules too when iptables' filter FORWARD chain exists (another table's drop cannot be
// overridden from ours).
Status addNftables(const Attachment& a, const Config& c) {
    TRY(nat::fw::nftAdd(a));
    auto foreign = nat::fw::foreignForwardFamilies();
    if (foreign.empty()) return {};
    if (auto st = nat::fw::iptAdd(a, {.adminChain = c.adminChain, .isolation = false}, foreign);
        !st) {
        (void)nat::fw::nftRemove(a.owner, a);
        return st;
    }
    return {};
}

// iptables: everything in the filter table (reference layout); only isolation inside one bridge,
// which iptables cannot see without br_netfilter, in our bridge table.
Status addIptables(const Attachment& a, const Config& c) {
    TRY(nat::fw::nftAdd(a, NftScope::BridgeOnly));
    if (auto st = nat::fw::iptAdd(a, {.adminChain = c.adminChain, .isolation = true}); !st) {
        (void)nat::fw::nftRemove(a.owner, a);
        return st;
    }
    return {};
}

// firewalld: the addresses become sources of the zone; a policy is applied by our tables.
Status addFirewalld(const Attachment& a, const Config& c) {
    if (a.policy != Policy::Open) TRY(nat::fw::nftAdd(a));
    if (auto st = nat::fw::firewalldAdd(c.zone, a.ips); !st) {
        (void)nat::fw::nftRemove(a.owner, a);
        return st;
    }
    return {};
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "missing prevResult from earlier plugin");
    const cni::Result& prev = *args.conf.prevResult;
    const Attachment a = TRY(attachment(args, c, prev));
    switch (resolve(c.backend)) {
    case Backend::Iptables:
        TRY(addIptables(a, c));
        break;
    case Backend::Firewalld:
        TRY(addFirewalld(a, c));
        break;
    default:
        TRY(addNftables(a, c));
        break;
    }
    return prev;
}

Status cmdDel(const cni::CmdArgs& args) {
    // Every backend, whatever the config names now: our elements by owner tag, our iptables rules
    // by owner tag (exec'ing iptables only when our chains exist), firewalld sources from
    // prevResult (they carry no owner) when firewalld is the backend in use.
    const std::string owner = nat::ownerTag(args.conf.name, args.containerId, args.ifname);
    auto c = parseConfig(args);
    std::optional<Attachment> hint;
    if (c && args.conf.prevResult)
        if (auto a = attachment(args, *c, *args.conf.prevResult)) hint = *a;
    ErrorList errors;
    errors.add(nat::fw::nftRemove(owner, hint));
    errors.add(nat::fw::iptRemove(owner));
    if (c && hint &&
        (c->backend == Backend::Firewalld ||
         (c->backend == Backend::Auto && resolve(Backend::Auto) == Backend::Firewalld)))
        errors.add(nat::fw::firewalldRemove(c->zone, hint->ips));
    return errors.result();
}

Status cmdCheck(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "missing prevResult from earlier plugin");
    const Attachment a = TRY(attachment(args, c, *args.conf.prevResult));
    switch (resolve(c.backend)) {
    case Backend::Iptables:
        TRY(nat::fw::nftCheck(a, NftScope::BridgeOnly));
        return nat::fw::iptCheck(a, {.adminChain = c.adminChain, .isolation = true});
    case Backend::Firewalld:
        if (a.policy != Policy::Open) TRY(nat::fw::nftCheck(a));
        return nat::fw::firewalldCheck(c.zone, a.ips);
    default:
        TRY(nat::fw::nftCheck(a));
        if (auto foreign = nat::fw::foreignForwardFamilies(); !foreign.empty()) {
            Attachment only = a; // the families whose FORWARD chain exists
            std::erase_if(only.ips, [&](const net::IpAddress& ip) {
                return std::find(foreign.begin(), foreign.end(), ip.family()) == foreign.end();
            });
            return nat::fw::iptCheck(only, {.adminChain = c.adminChain, .isolation = false});
        }
        return {};
    }
}

Status cmdGc(const cni::CmdArgs& args) {
    std::vector<std::string> keep;
    for (const auto& [cid, ifname] : plugin::validAttachments(args.conf.raw))
        keep.push_back(nat::ownerTag(args.conf.name, cid, ifname));
    Status nft = nat::fw::nftGc(args.conf.name, keep);
    Status ipt = nat::fw::iptGc(args.conf.name, keep);
    TRY(nft);
    return ipt;
}

Status cmdStatus(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    switch (resolve(c.backend)) {
    case Backend::Iptables:
        if (!nat::ipt::available(net::Family::V4))
            return fail(Code::NotAvailable,
                        "firewall backend \"iptables\": iptables-restore not found");
        return {};
    case Backend::Firewalld:
        return nat::fw::firewalldAvailable();
    default:
        if (auto nft = net::Nft::open(); !nft)
            return fail(Code::NotAvailable, "firewall backend \"nftables\": " + nft.error().msg);
        return {};
    }
}

cni::PluginFuncs pluginFuncs() {
    return {.add = cmdAdd, .del = cmdDel, .check = cmdCheck, .status = cmdStatus, .gc = cmdGc};
}

} // namespace tether::firewall
