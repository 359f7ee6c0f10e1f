#include "runtime/launcher/seccomp_profile.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/unique_fd.hpp"
#include "runtime/launcher/fs_util.hpp"

namespace tether::rt {
namespace {

using nlohmann::json;

/// The native architecture under the names profiles use in includes/excludes "arches"
/// (Docker's Go names and libseccomp's) and in archMap.
#if defined(__x86_64__)
const std::vector<std::string> kNativeNames = {"amd64", "x86_64"};
constexpr const char* kNativeScmp = "SCMP_ARCH_X86_64";
#elif defined(__aarch64__)
const std::vector<std::string> kNativeNames = {"arm64", "aarch64"};
constexpr const char* kNativeScmp = "SCMP_ARCH_AARCH64";
#elif defined(__riscv) && __riscv_xlen == 64
const std::vector<std::string> kNativeNames = {"riscv64"};
constexpr const char* kNativeScmp = "SCMP_ARCH_RISCV64";
#elif defined(__s390x__)
const std::vector<std::string> kNativeNames = {"s390x"};
constexpr const char* kNativeScmp = "SCMP_ARCH_S390X";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
const std::vector<std::string> kNativeNames = {"ppc64le"};
constexpr const char* kNativeScmp = "SCMP_ARCH_PPC64LE";
#else
#error "seccomp: add this architecture's names"
#endif

Expected<uint32_t> actionNamed(const std::string& name, const json& errnoRet, int defaultErrno,
                               const std::string& where) {
    int ret = defaultErrno;
    if (!errnoRet.is_null()) {
        if (!errnoRet.is_number_unsigned() || errnoRet.get<uint64_t>() > 4095)
            return fail(Code::InvalidConfig, where + ": errnoRet must be a number in 0..4095");
        ret = errnoRet.get<int>();
    }
    if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
    if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(static_cast<uint16_t>(ret));
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(static_cast<uint16_t>(ret));
    if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    if (name == "SCMP_ACT_NOTIFY")
        return fail(Code::InvalidConfig,
                    where + ": SCMP_ACT_NOTIFY is not supported (no seccomp agent)");
    return fail(Code::InvalidConfig, where + ": unknown action " + name);
}

Expected<int> compareNamed(const std::string& op, const std::string& where) {
    static const std::pair<const char*, scmp_compare> ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
    for (auto [n, v] : ops)
        if (op == n) return static_cast<int>(v);
    return fail(Code::InvalidConfig, where + ": unknown op " + op);
}

/// "SCMP_ARCH_X86_64" -> libseccomp's token.
Expected<uint32_t> archNamed(const std::string& name, const std::string& where) {
    std::string n = name.starts_with("SCMP_ARCH_") ? name.substr(10) : name;
    for (auto& c : n)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    uint32_t a = seccomp_arch_resolve_name(n.c_str());
    if (a == 0) return fail(Code::InvalidConfig, where + ": unknown architecture " + name);
    return a;
}

std::vector<std::string> capNames(const std::vector<int>& caps) {
    std::vector<std::string> out;
    for (int c : caps) {
        char* n = cap_to_name(static_cast<cap_value_t>(c));
        if (!n) continue;
        std::string s = n;
        cap_free(n);
        for (auto& ch : s)
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        out.push_back(s);
    }
    return out;
}

/// Kernel release as major*1000+minor ("6.18.0" -> 6018).
int kernelVersion() {
    utsname u{};
    ::uname(&u);
    int major = 0, minor = 0;
    if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2)
        return 0; // unknown: no minKernel rule
    return major * 1000 + minor;
}

std::vector<std::string> strings(const json& j) {
    std::vector<std::string> out;
    if (j.is_array())
        for (const auto& e : j)
            if (e.is_string()) out.push_back(e.get<std::string>());
    return out;
}

bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

/// Whether the includes/excludes filters of a rule let it apply to this container.
bool applies(const json& rule, const std::vector<std::string>& caps, int kernel) {
    bool nativeListed = false;
    if (auto inc = rule.find("includes"); inc != rule.end() && inc->is_object()) {
        for (const auto& c : strings(inc->value("caps", json::array())))
            if (!contains(caps, c)) return false;
        auto arches = strings(inc->value("arches", json::array()));
        for (const auto& a : kNativeNames)
            nativeListed |= contains(arches, a);
        if (!arches.empty() && !nativeListed) return false;
        if (auto mk = inc->find("minKernel"); mk != inc->end() && mk->is_string()) {
            int major = 0, minor = 0;
            if (std::sscanf(mk->get<std::string>().c_str(), "%d.%d", &major, &minor) != 2 ||
                kernel < major * 1000 + minor)
                return false; // a rule whose minKernel cannot be read does not apply
        }
    }
    if (auto exc = rule.find("excludes"); exc != rule.end() && exc->is_object()) {
        for (const auto& c : strings(exc->value("caps", json::array())))
            if (contains(caps, c)) return false;
        auto arches = strings(exc->value("arches", json::array()));
        for (const auto& a : kNativeNames)
            if (contains(arches, a)) return false;
    }
    return true;
}

uint64_t fnv1a(uint64_t h, const std::string& s) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

} // namespace

Expected<SeccompProfile> parseSeccompProfile(const std::string& text, const std::vector<int>& caps,
                                             const std::string& source) {
    json j;
    try {
        j = json::parse(text);
    } catch (const std::exception& e) {
        return fail(Code::InvalidConfig, "seccomp profile " + source + ": invalid JSON", e.what());
    }
    if (!j.is_object())
        return fail(Code::InvalidConfig, "seccomp profile " + source + ": not a JSON object");
    std::string where = "seccomp profile " + source;
    SeccompProfile p;
    int defaultErrno = EPERM;
    if (auto d = j.find("defaultErrnoRet"); d != j.end() && !d->is_null()) {
        if (!d->is_number_unsigned() || d->get<uint64_t>() > 4095)
            return fail(Code::InvalidConfig, where + ": defaultErrnoRet must be in 0..4095");
        defaultErrno = d->get<int>();
    }
    auto def = j.find("defaultAction");
    if (def == j.end() || !def->is_string())
        return fail(Code::InvalidConfig, where + ": defaultAction is missing");
    p.defaultAction =
        TRY(actionNamed(def->get<std::string>(), json(), defaultErrno, where + " defaultAction"));
    for (const auto& a : strings(j.value("architectures", json::array())))
        p.arches.push_back(TRY(archNamed(a, where + " architectures")));
    if (auto map = j.find("archMap"); map != j.end() && map->is_array()) {
        for (const auto& e : *map) {
            if (!e.is_object() || e.value("architecture", "") != kNativeScmp) continue;
            for (const auto& a : strings(e.value("subArchitectures", json::array())))
                p.arches.push_back(TRY(archNamed(a, where + " archMap")));
        }
    }
    auto calls = j.value("syscalls", json::array());
    if (!calls.is_array() && !calls.is_null())
        return fail(Code::InvalidConfig, where + ": syscalls must be an array");
    auto names = capNames(caps);
    int kernel = kernelVersion();
    size_t i = 0;
    for (const auto& r : calls.is_null() ? json::array() : calls) {
        std::string at = where + " syscalls[" + std::to_string(i++) + "]";
        if (!r.is_object()) return fail(Code::InvalidConfig, at + ": not an object");
        if (!applies(r, names, kernel)) continue;
        SeccompRule rule;
        rule.names = strings(r.value("names", json::array()));
        if (auto n = r.find("name"); n != r.end() && n->is_string())
            rule.names.push_back(n->get<std::string>());
        auto act = r.find("action");
        if (act == r.end() || !act->is_string())
            return fail(Code::InvalidConfig, at + ": action is missing");
        rule.action = TRY(
            actionNamed(act->get<std::string>(), r.value("errnoRet", json()), defaultErrno, at));
        auto args = r.value("args", json::array());
        for (const auto& a : args.is_null() ? json::array() : args) {
            if (!a.is_object() || !a.value("index", json()).is_number_unsigned() ||
                !a.value("value", json()).is_number_unsigned() || !a.contains("op"))
                return fail(Code::InvalidConfig,
                            at + ": each arg needs index, value (unsigned) and op");
            SeccompArg arg;
            arg.index = a["index"].get<unsigned>();
            if (arg.index > 5) return fail(Code::InvalidConfig, at + ": arg index above 5");
            arg.value = a["value"].get<uint64_t>();
            arg.valueTwo = a.value("valueTwo", uint64_t{0});
            arg.op = TRY(compareNamed(a["op"].get<std::string>(), at));
            rule.args.push_back(arg);
        }
        if (!rule.names.empty()) p.rules.push_back(std::move(rule));
    }
    return p;
}

Expected<std::vector<sock_filter>> compileSeccomp(const SeccompProfile& p) {
    scmp_filter_ctx ctx = seccomp_init(p.defaultAction);
    if (!ctx) return fail(Code::Internal, "seccomp_init failed");
    auto build = [&]() -> Expected<std::vector<sock_filter>> {
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); // the container sets no_new_privs itself
        seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); // binary tree over syscall numbers
        for (uint32_t a : p.arches)
            if (int rc = seccomp_arch_add(ctx, a); rc != 0 && rc != -EEXIST)
                return failErrno("seccomp: add architecture", -rc);
        for (const auto& r : p.rules) {
            if (r.action == p.defaultAction) continue; // libseccomp refuses such rules
            // Comparisons on the same argument cannot be ANDed in one libseccomp rule: as runc
            // does, each becomes a rule of its own (so they are ORed).
            bool repeated = false;
            for (size_t x = 0; x < r.args.size(); ++x)
                for (size_t y = x + 1; y < r.args.size(); ++y)
                    repeated |= r.args[x].index == r.args[y].index;
            std::vector<std::vector<scmp_arg_cmp>> sets(1);
            for (const auto& a : r.args) {
                scmp_arg_cmp c{a.index, static_cast<scmp_compare>(a.op), a.value, a.valueTwo};
                if (repeated)
                    sets.push_back({c});
                else
                    sets[0].push_back(c);
            }
            if (repeated) sets.erase(sets.begin());
            for (const auto& name : r.names) {
                int nr = seccomp_syscall_resolve_name(name.c_str());
                if (nr == __NR_SCMP_ERROR) continue; // unknown to libseccomp: default action
                for (const auto& s : sets) {
                    int rc = seccomp_rule_add_array(ctx, r.action, nr,
                                                    static_cast<unsigned>(s.size()), s.data());
                    if (rc != 0) return failErrno("seccomp: rule for " + name, -rc);
                }
            }
        }
        UniqueFd fd(::memfd_create("tether-seccomp", MFD_CLOEXEC));
        if (!fd) return failErrno("memfd_create", errno);
        int rc = seccomp_export_bpf(ctx, fd.get());
        std::vector<sock_filter> out;
        off_t size = ::lseek(fd.get(), 0, SEEK_END);
        if (rc == 0 && size > 0 && size % sizeof(sock_filter) == 0) {
            out.resize(static_cast<size_t>(size) / sizeof(sock_filter));
            if (::pread(fd.get(), out.data(), static_cast<size_t>(size), 0) != size) out.clear();
        }
        fd.reset();
        if (rc != 0) return failErrno("seccomp: export BPF", -rc);
        if (out.empty()) return fail(Code::Internal, "seccomp: empty BPF program");
        return out;
    };
    auto result = build();
    seccomp_release(ctx);
    return result;
}

Expected<std::vector<sock_filter>> seccompFilterFor(const std::string& text,
                                                    const std::vector<int>& caps,
                                                    const std::string& cacheDir,
                                                    const std::string& source) {
    const scmp_version* v = seccomp_version();
    utsname u{};
    ::uname(&u);
    std::string key = std::string(u.release) + "|" + std::to_string(v->major) + "." +
                      std::to_string(v->minor) + "." + std::to_string(v->micro) + "|1|";
    for (int c : caps)
        key += std::to_string(c) + ",";
    uint64_t h = fnv1a(fnv1a(14695981039346656037ULL, key), text);
    char name[32];
    std::snprintf(name, sizeof name, "/%016llx.bpf", static_cast<unsigned long long>(h));
    std::string path = cacheDir + name;
    if (UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)); fd) {
        struct stat st {};
        std::vector<sock_filter> out;
        if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
            st.st_size % sizeof(sock_filter) == 0 && st.st_size <= 65536 * 8) {
            out.resize(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
            if (::read(fd.get(), out.data(), static_cast<size_t>(st.st_size)) != st.st_size)
                out.clear();
        }
        if (!out.empty()) return out;
    }
    auto profile = TRY(parseSeccompProfile(text, caps, source));
    auto filter = TRY(compileSeccomp(profile));
    // The lib dir above the cache is traversed by user-namespaced containers (their rootfs lives
    // there): it gets 0711 when we create it; only the cache itself is private.
    std::string parent = cacheDir.substr(0, cacheDir.find_last_of('/'));
    if ((parent.empty() || mkdirs(parent, 0711)) && mkdirs(cacheDir, 0700)) {
        std::string tmp = path + ".tmp" + std::to_string(::getpid());
        std::string bytes(reinterpret_cast<const char*>(filter.data()),
                          filter.size() * sizeof(sock_filter));
        if (writeFile(tmp, bytes, true, 0600) && ::rename(tmp.c_str(), path.c_str()) != 0)
            ::unlink(tmp.c_str());
    }
    return filter;
}

} // namespace tether::rt
