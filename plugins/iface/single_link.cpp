#include "plugins/iface/single_link.hpp"

#include "base/error_list.hpp"
#include "cni/args.hpp"
#include "cni/invoke.hpp"
#include "cni/json_fields.hpp"
#include "cni/version.hpp"
#include "libnet/netns.hpp"
#include "plugins/iface/container_iface.hpp"
#include "plugins/iface/teardown.hpp"

namespace tether::plugin {

Expected<std::string> readContainerMac(const cni::CmdArgs& args, std::string_view label) {
    std::string mac;
    if (auto m = TRY(cni::fields::optString(args.conf.raw, "mac", ""))) mac = *m;
    auto pairs = TRY(cni::parseCniArgs(args.args, {"MAC"}));
    if (auto* m = cni::findArg(pairs, "MAC"); m && !m->empty()) mac = *m;
    if (auto m = TRY(cni::fields::optString(args.conf.runtimeConfig, "mac", "runtimeConfig"));
        m && !m->empty())
        mac = *m;
    if (!mac.empty() && !net::parseMac(mac))
        return fail(Code::InvalidConfig, "invalid " + std::string(label) + " \"" + mac + "\"");
    return mac;
}

Status checkIfNameKey(std::string_view key, const std::string& name) {
    if (name.empty()) return {};
    if (auto st = net::validateIfName(name); !st)
        return fail(Code::InvalidConfig, "invalid " + std::string(key) + " \"" + name + "\"",
                    st.error().msg);
    return {};
}

Status validateAddressing(const cni::CmdArgs& args) {
    if (!args.conf.ipamType.empty()) return PendingIpamAdd::validate(args);
    if (cni::compareVersions(args.conf.cniVersion, "0.3.0") < 0)
        return fail(Code::IncompatibleVersion,
                    "cannot convert result to " + args.conf.cniVersion +
                        ": no valid IP addresses (an interface without ipam needs 0.3.0 or later)");
    return {};
}

Status refuseExistingIfname(net::NetlinkSocket& csock, const cni::CmdArgs& args) {
    if (TRY(net::findLink(csock, std::string_view(args.ifname))))
        return fail(Code::Conflict,
                    "interface " + args.ifname + " already exists in " + args.netns);
    return {};
}

Expected<cni::Result> takeIpamLease(PendingIpamAdd& ipam, UndoStack& undo, const cni::CmdArgs& args,
                                    int resultIndex) {
    cni::Result result = TRY(ipam.take());
    undo.push([&args] { (void)cni::delegateDel(args.conf.ipamType, args.stdinData); });
    if (result.ips.empty()) return fail(Code::Internal, "IPAM plugin returned missing IP config");
    for (auto& ip : result.ips)
        ip.interface = resultIndex;
    return result;
}

Expected<cni::Result> addressLink(std::optional<PendingIpamAdd>& ipam, UndoStack& undo,
                                  const cni::CmdArgs& args, net::NetlinkSocket& csock,
                                  const net::LinkInfo& link, int resultIndex,
                                  const LeaseConfigure& configure) {
    cni::Result result;
    if (ipam) {
        result = TRY(takeIpamLease(*ipam, undo, args, resultIndex));
        TRY(configure(result));
    } else {
        TRY(net::setLinkUp(csock, link.index, true));
    }
    finishResult(result, args, link.mac);
    return result;
}

void finishResult(cni::Result& result, const cni::CmdArgs& args, const std::string& mac) {
    result.interfaces = {{.name = args.ifname, .mac = mac, .sandbox = args.netns}};
    if (args.conf.dns && !args.conf.dns->empty()) result.dns = *args.conf.dns;
    result.cniVersion = args.conf.cniVersion;
}

Status delIpamThenLink(const cni::CmdArgs& args) {
    ErrorList errors;
    if (!args.conf.ipamType.empty())
        errors.add(cni::delegateDel(args.conf.ipamType, args.stdinData));
    errors.add(deleteContainerLink(args));
    return errors.result("DEL");
}

Status checkSingleLink(const cni::CmdArgs& args, const LinkKindCheck& kindCheck) {
    if (!args.conf.ipamType.empty()) TRY(cni::delegateCheck(args.conf.ipamType, args.stdinData));
    if (!args.conf.prevResult) return fail(Code::InvalidConfig, "required prevResult missing");
    const cni::Result& prev = *args.conf.prevResult;
    const size_t idx = TRY(prevResultInterface(prev, args));
    auto cns = TRY(net::Netns::open(args.netns));
    auto csock = TRY(net::NetlinkSocket::openIn(cns));
    auto link = TRY(net::findLink(csock, std::string_view(args.ifname)));
    if (!link)
        return fail(Code::Internal,
                    "container interface " + args.ifname + " not found in " + args.netns);
    if (kindCheck) TRY(kindCheck(csock, *link));
    const auto& want = prev.interfaces[idx];
    if (!want.mac.empty() && want.mac != link->mac)
        return fail(Code::Internal, "interface " + args.ifname + " has MAC " + link->mac +
                                        ", prevResult says " + want.mac);
    return checkIface(csock, prev,
                      {.ifindex = link->index, .ifname = args.ifname, .resultIndex = int(idx)});
}

cni::PluginFuncs singleLinkFuncs(std::function<Expected<cni::Result>(const cni::CmdArgs&)> add,
                                 std::function<Status(const cni::CmdArgs&)> del,
                                 std::function<Status(const cni::CmdArgs&)> check) {
    return {.add = std::move(add),
            .del = std::move(del),
            .check = std::move(check),
            .status = ipamStatus,
            .gc = ipamGc};
}

Status ipamStatus(const cni::CmdArgs& args) {
    return args.conf.ipamType.empty() ? Status{}
                                      : cni::delegateStatus(args.conf.ipamType, args.stdinData);
}

Status ipamGc(const cni::CmdArgs& args) {
    return args.conf.ipamType.empty() ? Status{}
                                      : cni::delegateGc(args.conf.ipamType, args.stdinData);
}

} // namespace tether::plugin
