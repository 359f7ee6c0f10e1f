#include "plugins/static/static_ipam.hpp"

#include "plugins/static/config.hpp"

namespace tether::staticipam {

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    Config cfg = TRY(parseConfig(args.conf.raw, args.conf.cniVersion, args.args));
    cni::Result result;
    result.cniVersion = args.conf.cniVersion;
    for (const auto& a : cfg.addresses)
        result.ips.push_back(
            cni::IpConfig{a.address.str(), a.gateway ? a.gateway->str() : "", std::nullopt});
    result.routes = std::move(cfg.routes);
    result.dns = std::move(cfg.dns);
    return result;
}

Status cmdCheck(const cni::CmdArgs& args) {
    Config cfg = TRY(parseConfig(args.conf.raw, args.conf.cniVersion, args.args));
    if (!args.conf.prevResult) return fail(Code::InvalidConfig, "Required prevResult missing");
    for (const auto& want : cfg.addresses) {
        const cni::IpConfig* found = nullptr;
        for (const auto& ip : args.conf.prevResult->ips) {
            auto p = net::IpPrefix::parse(ip.address);
            if (p && p->address() == want.address.address()) found = &ip;
            if (found) break;
        }
        if (!found)
            return fail(Code::Internal, "static: address " + want.address.str() +
                                            " missing from prevResult for interface " +
                                            args.ifname);
        if (!want.gateway) continue;
        auto gw = net::IpAddress::parse(found->gateway);
        if (!gw || *gw != *want.gateway)
            return fail(Code::Internal, "static: address " + want.address.str() + " on " +
                                            args.ifname + " has gateway \"" + found->gateway +
                                            "\", expected " + want.gateway->str());
    }
    return {};
}

Status cmdDel(const cni::CmdArgs& args) {
    TRY(parseConfig(args.conf.raw, args.conf.cniVersion, args.args));
    return {};
}

cni::PluginFuncs pluginFuncs() {
    return cni::PluginFuncs{.add = cmdAdd, .del = cmdDel, .check = cmdCheck};
}

} // namespace tether::staticipam
