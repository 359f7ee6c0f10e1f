#include "runtime/launcher/security.hpp"

#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <string_view>

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

namespace {

// The native architecture as seccomp_data.arch reports it. A filter for another ABI (x32, i386
// on x86_64, arm32 on aarch64) would see different syscall numbers: those processes are killed.
#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr uint32_t kAuditArch = AUDIT_ARCH_RISCV64;
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr uint32_t kAuditArch = AUDIT_ARCH_PPC64LE;
#elif defined(__s390x__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_S390X;
#elif defined(__i386__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_I386;
#elif defined(__arm__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_ARM;
#else
#error "seccomp: add this architecture's AUDIT_ARCH_* value"
#endif

// Syscalls added after the kernel headers of older distributions; numbers >= 424 are shared by
// every architecture above.
#ifndef __NR_lsm_set_self_attr
#define __NR_lsm_set_self_attr 460
#endif

struct NamedSyscall {
    const char* name;
    long nr; ///< -1: not a syscall on this architecture
};

#define TETHER_SYSCALL(n)                                                                          \
    { #n, __NR_##n }
#define TETHER_NO_SYSCALL(n)                                                                       \
    { #n, -1 }

/// deniedSyscalls() by number, resolved at compile time from the kernel headers (libseccomp's
/// name lookup and BPF generation cost ~0.2 ms per container).
const NamedSyscall kDenied[] = {
    TETHER_SYSCALL(kexec_load),
    TETHER_SYSCALL(kexec_file_load),
    TETHER_SYSCALL(add_key),
    TETHER_SYSCALL(keyctl),
    TETHER_SYSCALL(request_key),
    TETHER_SYSCALL(bpf),
    TETHER_SYSCALL(init_module),
    TETHER_SYSCALL(finit_module),
    TETHER_SYSCALL(delete_module),
    TETHER_SYSCALL(reboot),
    TETHER_SYSCALL(swapon),
    TETHER_SYSCALL(swapoff),
    TETHER_SYSCALL(open_by_handle_at),
    TETHER_SYSCALL(name_to_handle_at),
    TETHER_SYSCALL(userfaultfd),
    TETHER_SYSCALL(perf_event_open),
    TETHER_SYSCALL(acct),
    TETHER_SYSCALL(settimeofday),
    TETHER_SYSCALL(clock_settime),
    TETHER_SYSCALL(clock_adjtime),
    TETHER_SYSCALL(adjtimex),
#ifdef __NR_iopl
    TETHER_SYSCALL(iopl),
#else
    TETHER_NO_SYSCALL(iopl),
#endif
#ifdef __NR_ioperm
    TETHER_SYSCALL(ioperm),
#else
    TETHER_NO_SYSCALL(ioperm),
#endif
    TETHER_SYSCALL(lookup_dcookie),
    TETHER_SYSCALL(quotactl),
    TETHER_SYSCALL(quotactl_fd),
    TETHER_SYSCALL(nfsservctl),
    TETHER_SYSCALL(syslog),
#ifdef __NR_uselib
    TETHER_SYSCALL(uselib),
#else
    TETHER_NO_SYSCALL(uselib),
#endif
    TETHER_SYSCALL(vhangup),
    TETHER_SYSCALL(kcmp),
    TETHER_SYSCALL(process_vm_readv),
    TETHER_SYSCALL(process_vm_writev),
    TETHER_SYSCALL(mount),
    TETHER_SYSCALL(umount2),
    TETHER_SYSCALL(pivot_root),
    TETHER_SYSCALL(fsopen),
    TETHER_SYSCALL(fsconfig),
    TETHER_SYSCALL(fsmount),
    TETHER_SYSCALL(fspick),
    TETHER_SYSCALL(move_mount),
    TETHER_SYSCALL(open_tree),
    TETHER_SYSCALL(mount_setattr),
    TETHER_SYSCALL(unshare),
    TETHER_SYSCALL(setns),
#ifdef __NR_create_module
    TETHER_SYSCALL(create_module),
#else
    TETHER_NO_SYSCALL(create_module),
#endif
#ifdef __NR_get_kernel_syms
    TETHER_SYSCALL(get_kernel_syms),
#else
    TETHER_NO_SYSCALL(get_kernel_syms),
#endif
#ifdef __NR_query_module
    TETHER_SYSCALL(query_module),
#else
    TETHER_NO_SYSCALL(query_module),
#endif
#ifdef __NR__sysctl
    TETHER_SYSCALL(_sysctl),
#else
    TETHER_NO_SYSCALL(_sysctl),
#endif
    TETHER_SYSCALL(lsm_set_self_attr),
};

#undef TETHER_SYSCALL
#undef TETHER_NO_SYSCALL

} // namespace

const std::vector<std::string>& deniedSyscalls() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& s : kDenied)
            out.emplace_back(s.name);
        return out;
    }();
    return names;
}

std::vector<sock_filter> seccompFilter(const std::vector<int>& caps) {
    auto has = [&](int c) { return std::find(caps.begin(), caps.end(), c) != caps.end(); };
    // Like Docker's profile, a capability granted on purpose re-opens the syscalls it governs.
    const std::vector<std::pair<int, std::vector<std::string_view>>> gated = {
        {CAP_SYS_ADMIN,
         {"mount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
          "open_tree", "mount_setattr", "unshare", "setns", "quotactl", "quotactl_fd", "bpf",
          "perf_event_open"}},
        {CAP_SYS_BOOT, {"reboot"}},
        {CAP_SYS_MODULE, {"init_module", "finit_module", "delete_module"}},
        {CAP_SYS_TIME, {"settimeofday", "clock_settime", "clock_adjtime", "adjtimex"}},
        {CAP_SYS_PTRACE, {"kcmp", "process_vm_readv", "process_vm_writev"}},
        {CAP_SYSLOG, {"syslog"}},
        {CAP_SYS_RAWIO, {"iopl", "ioperm"}},
    };
    auto allowed = [&](std::string_view name) {
        for (const auto& [cap, names] : gated)
            if (has(cap) && std::find(names.begin(), names.end(), name) != names.end()) return true;
        return false;
    };
    std::vector<uint32_t> deny;
    for (const auto& s : kDenied)
        if (s.nr >= 0 && !allowed(s.name)) deny.push_back(static_cast<uint32_t>(s.nr));
    std::sort(deny.begin(), deny.end());
    deny.erase(std::unique(deny.begin(), deny.end()), deny.end());

    // Check the architecture, [x86_64: kill x32 syscalls], then a binary search over the sorted
    // denied numbers. A short path per syscall also keeps the kernel's work on load small: it
    // runs the filter for every syscall number to precompute which are always allowed.
    std::vector<sock_filter> f;
    f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0));
    f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    f.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
#if defined(__x86_64__)
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000U /* __X32_SYSCALL_BIT */, 0, 1));
    f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
    const sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    const sock_filter eperm =
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    // Code deciding for the numbers deny[lo, hi): a leaf compares each (jumping to its own
    // EPERM return), an inner node "nr >= deny[mid]" skips the left half when true. Jump
    // offsets stay far below the 8-bit limit for a list of this size.
    auto tree = [&](auto&& self, size_t lo, size_t hi) -> std::vector<sock_filter> {
        std::vector<sock_filter> out;
        if (hi - lo <= 3) {
            for (size_t i = lo; i < hi; ++i)
                out.push_back(
                    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, deny[i], static_cast<uint8_t>(hi - i), 0));
            out.push_back(allow);
            out.push_back(eperm);
            return out;
        }
        size_t mid = lo + (hi - lo) / 2;
        auto left = self(self, lo, mid);
        auto right = self(self, mid, hi);
        out.push_back(
            BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, deny[mid], static_cast<uint8_t>(left.size()), 0));
        out.insert(out.end(), left.begin(), left.end());
        out.insert(out.end(), right.begin(), right.end());
        return out;
    };
    auto body = tree(tree, 0, deny.size());
    f.insert(f.end(), body.begin(), body.end());
    return f;
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
