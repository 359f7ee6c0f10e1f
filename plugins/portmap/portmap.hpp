// The portmap plugin: config (reference keys + the portMappings capability) and commands.
// See docs/plugins/portmap.md and docs/nftables.md (both backends).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cni/skel.hpp"
#include "libnet/ip.hpp"
#include "nat/backend.hpp"

namespace tether::portmap {

struct Mapping {
    int hostPort = 0;
    int containerPort = 0;
    std::string protocol = "tcp";         ///< tcp, udp or sctp
    std::optional<net::IpAddress> hostIP; ///< a specific local address (never unspecified)
    /// The only family mapped: set by any `hostIP` (`0.0.0.0` = IPv4 only, `::` = IPv6 only).
    std::optional<net::Family> family;
    [[nodiscard]] std::string text() const; ///< "[hostIP:]hostPort/proto -> containerPort"
    [[nodiscard]] bool applies(net::Family f) const { return !family || *family == f; }
};

/// `conditionsV4` / `conditionsV6` of one family: the tokens as written, and the nftables match
/// text they stand for ("" when there are none).
struct Conditions {
    std::vector<std::string> tokens;
    bool nftStyle = false; ///< the first token starts with neither '-' nor '!'
    std::string nft;       ///< nft match expression (translated, or the nft tokens joined)
};

struct Config {
    std::vector<Mapping> mappings;
    bool snat = true;     ///< masquerade hairpin and localhost connections
    bool masqAll = false; ///< masquerade every mapped connection
    std::string backend;  ///< `backend` as written: "" (automatic), "nftables", "iptables"
    Conditions cond4, cond6;
    int markMasqBit = 13; ///< 0..31: hairpin/localhost connections get mark 1<<bit (docs)
    std::string externalSetMarkChain; ///< iptables: mark connections to masquerade with this chain
    [[nodiscard]] bool hasConditions() const {
        return !cond4.tokens.empty() || !cond6.tokens.empty();
    }
};

/// Parses runtimeConfig.portMappings and the plugin keys. Errors: code 6 for wrong types, code 7
/// naming the entry for a port outside 1..65535, an unknown protocol, a hostIP that is not an
/// address, two entries for the same [hostIP:]hostPort/protocol, a backend other than
/// "nftables"/"iptables"; code 7 for markMasqBit outside 0..31, markMasqBit together with
/// externalSetMarkChain, a condition token the nftables backend cannot translate (naming it),
/// and keys of one backend with the other one named (externalSetMarkChain or nft-style
/// conditions with "nftables"/"iptables" respectively).
Expected<Config> parseConfig(const cni::CmdArgs& args);

/// The backend ADD and CHECK install with: `backend` if given; else iptables when the config
/// holds iptables-only keys (externalSetMarkChain), nftables when it holds nft-style
/// conditions, otherwise nat::resolveBackend (nftables where usable).
Expected<nat::Backend> chooseBackend(const Config& c);

/// Translates iptables-style condition tokens to an nftables match for `family`; code 7
/// "unsupported conditionsV4 token \"-m\" ..." for anything outside -s/-d/-i/-o/-p/--sport/--dport
/// (long forms too), `!`, and `-m tcp|udp|sctp`.
Expected<std::string> translateConditions(const std::vector<std::string>& tokens,
                                          net::Family family, const std::string& key);

/// The nftables objects of a config's conditions (docs/nftables.md, "Conditions"): chain
/// `pmc-<h>` and the key sets of the families with conditions, <h> hashing the network name and
/// the translated conditions. All empty without conditions.
struct CondObjects {
    std::string chain;
    std::string set4, set4ip, set6, set6ip;              ///< "" for a family without conditions
    [[nodiscard]] std::vector<std::string> sets() const; ///< the non-empty set names
};
CondObjects condObjects(const Config& c, const std::string& network);

/// Creates the config's condition chain and sets (upgrading an older table first), unless the
/// chain exists. Needs libnftables; one transaction.
Status ensureCondObjects(const Config& c, const std::string& network);

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args);
Status cmdDel(const cni::CmdArgs& args);
Status cmdCheck(const cni::CmdArgs& args);
Status cmdGc(const cni::CmdArgs& args);
cni::PluginFuncs pluginFuncs();

} // namespace tether::portmap
