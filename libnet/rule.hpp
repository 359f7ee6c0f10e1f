// Policy routing rules (`ip rule`) over rtnetlink: add, delete, list. Used by sbr for
// `from <addr> lookup <table>`.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"
#include "libnet/netlink.hpp"

namespace tether::net {

/// One rule of action "lookup table" (FR_ACT_TO_TBL).
struct Rule {
    Family family = Family::V4;
    std::optional<IpPrefix> src; ///< FRA_SRC (`from`); nullopt = all
    uint32_t table = 0;          ///< FRA_TABLE
    uint32_t priority = 0;       ///< FRA_PRIORITY; 0 on add = kernel picks (below the last one)
};

/// Adds the rule (NLM_F_CREATE|NLM_F_EXCL). An identical rule (same src and table, and same
/// priority when one is given) -> code 102 Conflict, errnum EEXIST; src of another family than
/// `family` -> code 7. Kernel errors -> code 11.
Status addRule(NetlinkSocket& sock, const Rule& rule);
/// Deletes the rule matching family/src/table (and priority when non-zero). False if absent.
Expected<bool> deleteRule(NetlinkSocket& sock, const Rule& rule);
/// Rules of `family` whose action is a table lookup, in kernel order (main/local/default too).
Expected<std::vector<Rule>> listRules(NetlinkSocket& sock, Family family);

} // namespace tether::net
