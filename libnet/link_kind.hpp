// One link's kind-specific attributes over rtnetlink: the RTM_GETLINK request and the parse of
// IFLA_LINKINFO that the per-kind readers (macvlan, tap) share; each reader only picks its
// values out of IFLA_INFO_DATA.
#pragma once

#include <functional>
#include <string_view>

#include "base/error.hpp"
#include "libnet/netlink.hpp"

struct nlattr;

namespace tether::net {

/// The attributes of a link of the asked kind: `link` is the top-level table indexed by IFLA_*
/// (IFLA_MAX + 1 entries, nullptr where absent), `data` the nested IFLA_INFO_DATA (nullptr when
/// the kernel sent none). Valid only during the callback.
struct KindAttrs {
    nlattr* const* link = nullptr;
    nlattr* data = nullptr;
};

/// Gets link `index` through `sock` and, when its IFLA_INFO_KIND is `kind`, calls `onKind` with
/// its attributes. Returns whether the link is of that kind (false: another kind, or none). A
/// missing link is code 100 with errnum ENODEV; other failures code 100 with the kernel's errno.
Expected<bool> readLinkOfKind(NetlinkSocket& sock, int index, std::string_view kind,
                              const std::function<void(const KindAttrs&)>& onKind);

} // namespace tether::net
