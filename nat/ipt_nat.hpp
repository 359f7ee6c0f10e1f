// The iptables NAT backend: the same semantics as table inet tether (docs/nftables.md), as
// iptables rules in the nat table of each family (docs/nftables.md, "The iptables backend"):
//
//   POSTROUTING -m comment --comment "tether: container NAT" -j TETHER-POSTROUTING      (once)
//   PREROUTING/OUTPUT -m addrtype --dst-type LOCAL -m comment --comment "tether: host ports"
//                                                    -j TETHER-HOSTPORTS                 (once)
//   TETHER-POSTROUTING -s <ip> ! -d <subnet> -j TETHER-MASQ-<h>        masquerade
//   TETHER-MASQ-<h>: -d 224.0.0.0/4 (ff00::/8) -j RETURN; -j MASQUERADE
//   TETHER-HOSTPORTS -p <proto> -m multiport --dports <ports> -j TETHER-DN-<h>  port mappings
//   TETHER-DN-<h>: [-d <hostIP>] -p <proto> --dport <H> -j DNAT --to-destination <ip>:<C>
//   TETHER-POSTROUTING -d <ip> -m conntrack --ctstate DNAT -j TETHER-SN-<h>      hairpin/masqAll
//   TETHER-SN-<h>: -s <subnet or 0/0> -j MASQUERADE; -s 127.0.0.0/8 -j MASQUERADE (IPv4)
//
// With a mark bit (markMasqBit, snat), instead of TETHER-SN-<h>, as the reference's chains:
//   TETHER-DN-<h>: -s <subnet> / -s 127.0.0.1/32 <mapping> -j CNI-HOSTPORT-SETMARK before the DNAT
//   CNI-HOSTPORT-SETMARK: -j MARK --set-xmark <1<<bit>/<1<<bit>             (one rule per bit)
//   POSTROUTING (first rule) -j CNI-HOSTPORT-MASQ
//   CNI-HOSTPORT-MASQ: -m mark --mark <1<<bit>/<1<<bit> -j MASQUERADE       (one rule per bit)
// These two are shared with the reference plugin (same names and rules) and dropped, with the
// jump, when no rule of anyone jumps to CNI-HOSTPORT-SETMARK any more.
//
// <h> is 16 hex digits of a hash of the owner tag "<network>/<containerID>/<ifname>", and every
// per-attachment rule carries that tag as its comment, so DEL and GC remove exactly one
// attachment's rules and chains. The shared chains and jumps go when their last rule goes.
// Every change is one iptables-restore per family, made under ipt::Lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"

namespace tether::nat::ipt {

/// The per-attachment objects of one feature: masquerade (bridge/veth ipMasq, the masquerade
/// plugin) or port mappings (portmap).
enum class Kind { Masq, Portmap };

/// The chains `owner` has for `kind` ("TETHER-MASQ-<h>"; "TETHER-DN-<h>", "TETHER-SN-<h>").
std::vector<std::string> ownedChains(Kind kind, const std::string& owner);

/// Masquerade for the container addresses `ips` (with their subnet prefix). Replaces what the
/// owner had before (idempotent). One restore per family with addresses.
Status addMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips);
/// CHECK: every address of `ips` has its masquerade jump and chain, owned by `owner`.
Status checkMasq(const std::string& owner, const std::vector<net::IpPrefix>& ips);

/// One host port -> container port mapping.
struct PortMap {
    std::optional<net::IpAddress> hostIP; ///< only traffic to this local address
    std::optional<net::Family> family;    ///< only this family (`hostIP` 0.0.0.0 / ::); unset: both
    std::string protocol = "tcp";         ///< tcp, udp or sctp
    int hostPort = 0;
    int containerPort = 0;
    [[nodiscard]] std::string text() const; ///< "[hostIP:]hostPort/proto -> containerPort"
};

struct PortmapSpec {
    std::vector<net::IpPrefix> ips; ///< the container's first IPv4 and first IPv6 (with prefix)
    std::vector<PortMap> mappings;
    bool snat = true;     ///< masquerade hairpin connections (own subnet) and localhost
    bool masqAll = false; ///< masquerade every mapped connection
    /// conditionsV4/V6: iptables match tokens added to the jump from TETHER-HOSTPORTS (each
    /// token one word: no whitespace, quotes or line breaks — validated by the caller).
    std::vector<std::string> conditions4, conditions6;
    /// When set, hairpin/localhost (masqAll: every) connections jump to this chain (e.g.
    /// KUBE-MARK-MASQ, which must exist) before the DNAT instead of getting TETHER-SN-<h>.
    std::string externalSetMarkChain;
    /// markMasqBit (0..31), or -1: no mark. With a bit, `snat` and no external chain, hairpin
    /// and 127.0.0.1 (masqAll: every) connections jump to the shared CNI-HOSTPORT-SETMARK before
    /// the DNAT (mark 1<<bit) and are masqueraded by CNI-HOSTPORT-MASQ, as the reference does;
    /// nftables: the same connections get the mark in table inet tether (docs/nftables.md).
    int markMasqBit = -1;
};

/// Installs the mappings for `owner`, all families or none: a [hostIP:]hostPort/protocol already
/// mapped by another owner is code 102 "host port ... is already mapped by <owner>", and nothing
/// is changed. Replaces what the owner had before.
Status addPortmap(const std::string& owner, const PortmapSpec& spec);
/// For the nftables backend: code 102 when a mapping of `spec` is mapped by iptables rules of
/// another owner. Execs nothing unless TETHER-HOSTPORTS may exist (familiesWith).
Status refuseTaken(const std::string& owner, const PortmapSpec& spec);
/// CHECK: every mapping of `spec` has its DNAT rule, owned by `owner`, reachable from
/// TETHER-HOSTPORTS.
Status checkPortmap(const std::string& owner, const PortmapSpec& spec);

/// Removes the owner's rules and chains of `kind` in both families. Execs nothing when the cheap
/// probe (familiesWith) says none of its chains exist. Missing is fine.
Status remove(Kind kind, const std::string& owner);
/// GC: removes the `kind` objects of owners tagged "<network>/..." that are not in `keep`.
/// Execs nothing when none of our chains exist.
Status gc(Kind kind, const std::string& network, const std::vector<std::string>& keep);

} // namespace tether::nat::ipt
