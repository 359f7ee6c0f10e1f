#include "nat/backend.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include <linux/netfilter.h>
#include <unistd.h>

#include "libnet/nft.hpp"
#include "nat/nat_table.hpp"

namespace tether::nat {

namespace {

std::string probe() {
    if (const char* v = std::getenv("TETHER_TEST_NFTABLES_UNAVAILABLE");
        v && std::strcmp(v, "1") == 0)
        return "unavailable (TETHER_TEST_NFTABLES_UNAVAILABLE)";
    // One NFT_MSG_GETTABLE: a kernel without nf_tables (or without nfnetlink) answers with an
    // error other than ENOENT.
    auto exists = net::nftTableExists(NFPROTO_INET, kTableName);
    if (!exists) return "kernel nf_tables: " + exists.error().text();
    if (*exists) return {}; // element changes are plain netlink: the library is not needed
    auto lib = net::Nft::open();
    if (!lib) return lib.error().msg;
    return {};
}

} // namespace

Expected<Backend> parseBackend(std::string_view value, std::string_view key) {
    if (value.empty() || value == "nftables") return Backend::Nftables;
    if (value == "iptables") return Backend::Iptables;
    return fail(Code::InvalidConfig, "invalid " + std::string(key) + " \"" + std::string(value) +
                                         "\": must be \"nftables\" or \"iptables\"");
}

const std::string& nftablesUnusableReason() {
    static std::string reason;
    static std::once_flag once;
    std::call_once(once, [] { reason = probe(); });
    return reason;
}

Expected<Backend> resolveBackend(std::string_view value, std::string_view key) {
    Backend b = TRY(parseBackend(value, key));
    if (!value.empty()) return b;
    const std::string& why = nftablesUnusableReason();
    if (why.empty()) return Backend::Nftables;
    static std::once_flag said;
    std::call_once(said, [&] {
        std::string msg = "tether: nftables is not usable here (" + why + "); " + std::string(key) +
                          " not set: using iptables\n";
        (void)!::write(2, msg.data(), msg.size());
    });
    return Backend::Iptables;
}

} // namespace tether::nat
