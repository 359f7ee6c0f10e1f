#include <sys/stat.h>

#include <cstdlib>

#include "cni/json_fields.hpp"
#include "nat/backend.hpp"
#include "nat/firewall_dbus.hpp"
#include "nat/firewall_ipt.hpp"
#include "nat/nat_table.hpp"
#include "plugins/firewall/firewall.hpp"

namespace tether::firewall {

namespace {

Status invalid(std::string_view key, const std::string& value, std::string_view why) {
    return fail(Code::InvalidConfig,
                "invalid " + std::string(key) + " \"" + value + "\": " + std::string(why));
}

Status validChain(const std::string& name) {
    constexpr std::string_view key = "iptablesAdminChainName";
    if (name.size() > 28) return invalid(key, name, "longer than 28 characters");
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            return invalid(key, name, "only letters, digits, '-', '_' and '.' are allowed");
    if (name.starts_with("-")) return invalid(key, name, "must not start with '-'");
    for (const char* reserved : {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING",
                                 nat::fw::kForwardChain, nat::fw::kStage1, nat::fw::kStage2})
        if (name == reserved) return invalid(key, name, "is a built-in or the plugin's own chain");
    return {};
}

// A system bus to ask at all: $DBUS_SYSTEM_BUS_ADDRESS or the standard socket. Checked before
// loading sd-bus so that hosts without D-Bus pay one stat.
bool systemBusExists() {
    if (const char* a = std::getenv("DBUS_SYSTEM_BUS_ADDRESS"); a && *a) return true;
    struct stat st {};
    return ::stat("/run/dbus/system_bus_socket", &st) == 0;
}

} // namespace

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const auto& raw = args.conf.raw;
    Config c;
    if (auto b = TRY(cni::fields::optString(raw, "backend", ""))) {
        if (*b == "nftables")
            c.backend = Backend::Nftables;
        else if (*b == "iptables")
            c.backend = Backend::Iptables;
        else if (*b == "firewalld")
            c.backend = Backend::Firewalld;
        else if (!b->empty())
            return std::unexpected(
                invalid("backend", *b, "must be \"nftables\", \"iptables\" or \"firewalld\"")
                    .error());
    }
    if (auto a = TRY(cni::fields::optString(raw, "iptablesAdminChainName", "")); a && !a->empty()) {
        TRY(validChain(*a));
        c.adminChain = *a;
    }
    if (auto z = TRY(cni::fields::optString(raw, "firewalldZone", "")); z && !z->empty()) {
        for (char ch : *z)
            if (std::isspace(static_cast<unsigned char>(ch)) || ch == '"' || ch == '\'' ||
                ch == '/')
                return std::unexpected(
                    invalid("firewalldZone", *z, "must not contain whitespace, quotes or '/'")
                        .error());
        c.zone = *z;
    }
    if (auto p = TRY(cni::fields::optString(raw, "ingressPolicy", ""))) {
        if (*p == "same-bridge")
            c.policy = nat::fw::Policy::SameBridge;
        else if (*p == "isolated")
            c.policy = nat::fw::Policy::Isolated;
        else if (!p->empty() && *p != "open")
            return std::unexpected(
                invalid("ingressPolicy", *p, "must be \"open\", \"same-bridge\" or \"isolated\"")
                    .error());
    }
    return c;
}

Expected<nat::fw::Attachment> attachment(const cni::CmdArgs& args, const Config& c,
                                         const cni::Result& prev) {
    nat::fw::Attachment a{.owner = nat::ownerTag(args.conf.name, args.containerId, args.ifname),
                          .ips = {},
                          .bridge = {},
                          .policy = c.policy};
    for (const auto& ip : prev.ips)
        if (auto p = net::IpPrefix::parse(ip.address)) a.ips.push_back(p->address());
    if (c.policy != nat::fw::Policy::Open) {
        if (prev.interfaces.empty() || prev.interfaces[0].name.empty())
            return fail(Code::InvalidConfig,
                        std::string("ingressPolicy \"") +
                            (c.policy == nat::fw::Policy::Isolated ? "isolated" : "same-bridge") +
                            "\" needs the bridge as prevResult.interfaces[0]: chain \"firewall\" "
                            "after \"bridge\"");
        a.bridge = prev.interfaces[0].name;
    }
    return a;
}

Backend resolve(Backend b) {
    if (b != Backend::Auto) return b;
    if (systemBusExists() && nat::fw::firewalldAvailable()) return Backend::Firewalld;
    // nftables where it is usable, else iptables (said once on stderr), as the reference picks.
    auto automatic = nat::resolveBackend("", "backend"); // "" cannot be invalid
    return automatic && *automatic == nat::Backend::Iptables ? Backend::Iptables
                                                             : Backend::Nftables;
}

} // namespace tether::firewall
