#include "plugins/dhcp/dhcp_plugin.hpp"

#include <cstdio>

#include "plugins/dhcp/config.hpp"
#include "plugins/dhcp/rpc.hpp"

namespace tether::dhcp {

namespace {

constexpr int kShortCallMs = 30'000;
constexpr int kDefaultAddCallMs = 120'000;

// Sends `method` for the attachment and returns the reply's "result" (or null); the daemon's
// error reply becomes our error.
Expected<nlohmann::json> ask(const PluginConfig& cfg, const std::string& method, int timeoutMs) {
    Request r = cfg.request;
    r.method = method;
    auto reply = TRY(call(cfg.socketPath, toJson(r), timeoutMs));
    if (reply.contains("error")) return std::unexpected(errorFromReply(reply));
    auto it = reply.find("result");
    return it == reply.end() ? nlohmann::json() : *it;
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const auto cfg = TRY(parsePluginConfig(args));
    const int wait = cfg.request.timeoutMs ? int(cfg.request.timeoutMs) + 5000 : kDefaultAddCallMs;
    auto j = TRY(ask(cfg, "add", wait));
    auto result = cni::parseResult(j, "1.1.0");
    if (!result)
        return fail(Code::Internal, "DHCP daemon sent an invalid result: " + result.error().msg);
    return result;
}

Status cmdDel(const cni::CmdArgs& args) {
    const auto cfg = TRY(parsePluginConfig(args));
    auto j = ask(cfg, "del", kShortCallMs);
    if (!j && j.error().code == Code::TryAgainLater && j.error().errnum != 0) {
        // Nothing listens on the socket: the daemon keeps leases in memory only, so no lease
        // exists to release.
        std::fprintf(stderr, "dhcp: %s; nothing to release\n", j.error().msg.c_str());
        return {};
    }
    if (!j) return std::unexpected(j.error());
    return {};
}

Status cmdCheck(const cni::CmdArgs& args) {
    const auto cfg = TRY(parsePluginConfig(args));
    auto j = TRY(ask(cfg, "check", kShortCallMs));
    auto lease = cni::parseResult(j, "1.1.0");
    if (!lease || lease->ips.empty())
        return fail(Code::Internal, "DHCP daemon sent an invalid CHECK result");
    if (!args.conf.prevResult) return {};
    for (const auto& ip : args.conf.prevResult->ips)
        if (ip.address == lease->ips[0].address) return {};
    return fail(Code::Internal, "dhcp: leased address " + lease->ips[0].address + " on " +
                                    args.ifname + " is not in prevResult.ips");
}

Status cmdStatus(const cni::CmdArgs& args) {
    const auto cfg = TRY(parsePluginConfig(args));
    auto j = ask(cfg, "status", kShortCallMs);
    if (!j) {
        Error e = j.error();
        e.code = Code::NotAvailable;
        return std::unexpected(e);
    }
    return {};
}

cni::PluginFuncs pluginFuncs() {
    return cni::PluginFuncs{.add = cmdAdd, .del = cmdDel, .check = cmdCheck, .status = cmdStatus};
}

} // namespace tether::dhcp
