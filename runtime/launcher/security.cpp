#include "runtime/launcher/security.hpp"

#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace tether::rt {
namespace {

const std::vector<int> kDefaultCaps = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

Expected<std::vector<int>> capsNamed(const std::string& name) {
    std::string lower;
    for (char c : name)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "all") {
        std::vector<int> all;
        for (int c = 0; c <= CAP_LAST_CAP; ++c)
            all.push_back(c);
        return all;
    }
    if (!lower.starts_with("cap_")) lower = "cap_" + lower;
    cap_value_t v;
    if (cap_from_name(lower.c_str(), &v) != 0)
        return fail(Code::InvalidConfig, "unknown capability " + name);
    return std::vector<int>{static_cast<int>(v)};
}

} // namespace

Expected<std::vector<int>> resolveCapabilities(const std::vector<std::string>& add,
                                               const std::vector<std::string>& drop) {
    std::vector<int> caps = kDefaultCaps;
    for (const auto& n : add)
        for (int c : TRY(capsNamed(n)))
            if (std::find(caps.begin(), caps.end(), c) == caps.end()) caps.push_back(c);
    for (const auto& n : drop)
        for (int c : TRY(capsNamed(n)))
            std::erase(caps, c);
    std::sort(caps.begin(), caps.end());
    return caps;
}

Status applyCredentials(const std::vector<int>& keep, uid_t uid, gid_t gid) {
    for (int c = 0; c <= CAP_LAST_CAP; ++c) {
        if (std::find(keep.begin(), keep.end(), c) != keep.end()) continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
            return failErrno("drop capability " + std::to_string(c) + " from the bounding set",
                             errno);
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return failErrno("prctl PR_SET_KEEPCAPS", errno);
    if (::setgroups(1, &gid) != 0 && errno != EPERM) return failErrno("setgroups", errno);
    if (::setresgid(gid, gid, gid) != 0)
        return failErrno("setresgid " + std::to_string(gid), errno);
    if (::setresuid(uid, uid, uid) != 0)
        return failErrno("setresuid " + std::to_string(uid), errno);
    cap_t state = cap_init();
    if (!state) return failErrno("cap_init", errno);
    if (uid == 0 && !keep.empty()) {
        std::vector<cap_value_t> vals(keep.begin(), keep.end());
        int n = static_cast<int>(vals.size());
        cap_set_flag(state, CAP_EFFECTIVE, n, vals.data(), CAP_SET);
        cap_set_flag(state, CAP_PERMITTED, n, vals.data(), CAP_SET);
        cap_set_flag(state, CAP_INHERITABLE, n, vals.data(), CAP_SET);
    }
    int rc = cap_set_proc(state);
    int err = errno;
    cap_free(state);
    if (rc != 0) return failErrno("set capabilities", err);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return failErrno("prctl PR_SET_KEEPCAPS", errno);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return failErrno("prctl PR_SET_NO_NEW_PRIVS", errno);
    return {};
}

Status loadSeccomp(const std::vector<sock_filter>& filter) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(filter.size());
    prog.filter = const_cast<sock_filter*>(filter.data());
    // no_new_privs is set by applyCredentials; without it the kernel wants CAP_SYS_ADMIN.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return failErrno("prctl PR_SET_NO_NEW_PRIVS", errno);
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        return failErrno("load seccomp filter", errno);
    return {};
}

} // namespace tether::rt
