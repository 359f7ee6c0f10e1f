#include "runtime/launcher/options.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "base/unique_fd.hpp"

namespace tether::rt {

LauncherPaths LauncherPaths::fromEnv() {
    LauncherPaths p;
    if (const char* v = std::getenv("TETHER_STATE_DIR"); v && *v) p.stateRoot = v;
    if (const char* v = std::getenv("TETHER_LIB_DIR"); v && *v) p.libRoot = v;
    if (const char* v = std::getenv("TETHER_NETNS_DIR"); v && *v) p.netnsDir = v;
    if (const char* v = std::getenv("TETHER_CGROUP_PARENT"); v && *v) p.cgroupParent = v;
    return p;
}

bool validName(const std::string& name) {
    if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0])))
        return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-')
            return false;
    return true;
}

std::string newContainerId() {
    unsigned char bytes[6] = {};
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
        if (UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC)); fd)
            (void)!::read(fd.get(), bytes, sizeof bytes);
    }
    static const char* hex = "0123456789abcdef";
    std::string id;
    for (unsigned char b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 15];
    }
    return id;
}

Expected<Volume> parseVolume(const std::string& spec) {
    Volume v;
    auto a = spec.find(':');
    if (a == std::string::npos)
        return fail(Code::InvalidConfig, "-v " + spec + ": expected HOST:CONTAINER[:ro]");
    v.host = spec.substr(0, a);
    auto rest = spec.substr(a + 1);
    auto b = rest.find(':');
    v.container = rest.substr(0, b);
    if (b != std::string::npos) {
        auto mode = rest.substr(b + 1);
        if (mode == "ro")
            v.readOnly = true;
        else if (mode != "rw")
            return fail(Code::InvalidConfig, "-v " + spec + ": mode must be ro or rw, not " + mode);
    }
    if (!v.host.starts_with("/") || !v.container.starts_with("/"))
        return fail(Code::InvalidConfig, "-v " + spec + ": both paths must be absolute");
    if (v.container.find("/../") != std::string::npos || v.container.ends_with("/.."))
        return fail(Code::InvalidConfig, "-v " + spec + ": container path must not contain ..");
    if (::access(v.host.c_str(), F_OK) != 0)
        return fail(Code::InvalidConfig,
                    "-v " + spec + ": host path " + v.host + " does not exist");
    return v;
}

Expected<Ulimit> parseUlimit(const std::string& spec) {
    static const std::pair<const char*, int> names[] = {
        {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
        {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
        {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
        {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
        {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
        {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
        {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
        {"stack", RLIMIT_STACK},       {"as", RLIMIT_AS}};
    auto eq = spec.find('=');
    if (eq == std::string::npos)
        return fail(Code::InvalidConfig, "--ulimit " + spec + ": expected NAME=SOFT[:HARD]");
    std::string name = spec.substr(0, eq), values = spec.substr(eq + 1);
    Ulimit u;
    bool known = false;
    for (auto [n, r] : names)
        if (name == n) {
            u.resource = r;
            known = true;
        }
    if (!known) return fail(Code::InvalidConfig, "--ulimit " + spec + ": unknown limit " + name);
    auto value = [](const std::string& v) -> std::optional<uint64_t> {
        if (v == "unlimited" || v == "-1") return RLIM_INFINITY;
        if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        return std::strtoull(v.c_str(), nullptr, 10);
    };
    auto colon = values.find(':');
    auto soft = value(values.substr(0, colon));
    auto hard = colon == std::string::npos ? soft : value(values.substr(colon + 1));
    if (!soft || !hard || *soft > *hard)
        return fail(Code::InvalidConfig,
                    "--ulimit " + spec + ": expected SOFT[:HARD] with SOFT <= HARD");
    u.soft = *soft;
    u.hard = *hard;
    return u;
}

Expected<std::pair<uid_t, gid_t>> parseUser(const std::string& spec) {
    auto digits = [](const std::string& s) {
        return !s.empty() && s.size() < 11 &&
               s.find_first_not_of("0123456789") == std::string::npos;
    };
    auto colon = spec.find(':');
    std::string u = spec.substr(0, colon);
    std::string g = colon == std::string::npos ? u : spec.substr(colon + 1);
    if (!digits(u) || !digits(g))
        return fail(Code::InvalidConfig, "--user " + spec + ": expected numeric UID[:GID]");
    return std::pair{static_cast<uid_t>(std::strtoul(u.c_str(), nullptr, 10)),
                     static_cast<gid_t>(std::strtoul(g.c_str(), nullptr, 10))};
}

Expected<NsMode> parseNsMode(const std::string& flag, const std::string& value) {
    NsMode m;
    if (value == "host")
        m.kind = NsMode::Host;
    else if (value.starts_with("container:")) {
        m.kind = NsMode::Container;
        m.container = value.substr(10);
        if (!validName(m.container))
            return fail(Code::InvalidConfig, flag + " " + value + ": invalid container id");
    } else if (value == "private" || value.empty())
        m.kind = NsMode::Private;
    else
        return fail(Code::InvalidConfig, flag + " " + value + ": expected host or container:ID");
    return m;
}

Status applySecurityOpt(RunOptions& o, const std::string& value) {
    std::string flag = "--security-opt " + value;
    if (value == "seccomp=unconfined" || value == "seccomp:unconfined") {
        o.seccomp = false;
        return {};
    }
    if (value.starts_with("seccomp=") || value.starts_with("seccomp:")) {
        std::string file = value.substr(8);
        UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
        if (!fd) return failErrno(flag + ": open profile", errno, Code::InvalidConfig);
        std::string text;
        char buf[65536];
        ssize_t n;
        while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 && text.size() < (4u << 20))
            text.append(buf, static_cast<size_t>(n));
        int err = errno;
        if (n < 0) return failErrno(flag + ": read profile", err, Code::InvalidConfig);
        if (text.size() >= (4u << 20))
            return fail(Code::InvalidConfig, flag + ": profile larger than 4 MiB");
        o.seccomp = true;
        o.seccompProfile = std::move(text);
        o.seccompSource = file;
        return {};
    }
    if (value == "no-new-privileges" || value == "no-new-privileges=true" ||
        value == "no-new-privileges:true")
        return {}; // the container's processes always run with no_new_privs
    if (value.starts_with("no-new-privileges"))
        return fail(Code::InvalidConfig,
                    flag + ": tether always sets no_new_privs; it cannot be turned off");
    return fail(Code::InvalidConfig,
                flag + ": expected seccomp=unconfined, seccomp=FILE or no-new-privileges");
}

Status validateRunOptions(const RunOptions& o) {
    if (!validName(o.id)) return fail(Code::InvalidConfig, "invalid container name " + o.id);
    if (o.command.empty())
        return fail(Code::InvalidConfig, "no command given (tether run [opts] -- CMD...)");
    if (!o.rootfs.empty() && !o.image.empty())
        return fail(Code::InvalidConfig, "--rootfs and --image are mutually exclusive");
    for (const auto* dir : {&o.rootfs, &o.image})
        if (!dir->empty() && ::access(dir->c_str(), X_OK) != 0)
            return fail(Code::InvalidConfig, "rootfs directory " + *dir + " is not accessible");
    for (const auto& n : o.networks)
        if (!validName(n))
            return fail(Code::InvalidConfig, "--net " + n + ": invalid network name");
    if (o.net.kind != NsMode::Private && !o.networks.empty())
        return fail(Code::InvalidConfig,
                    "--net none/host/container: cannot be combined with networks");
    if (o.net.kind != NsMode::Private && !o.portMappings.empty())
        return fail(Code::InvalidConfig,
                    "-p needs a container network (not --net none/host/container:)");
    if (o.userns && (o.net.kind != NsMode::Private && o.net.kind != NsMode::None))
        return fail(Code::InvalidConfig,
                    "--userns cannot share the host's or another container's netns");
    if (o.hostname.size() > 64)
        return fail(Code::InvalidConfig, "--hostname longer than 64 characters");
    for (char c : o.hostname)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
            return fail(Code::InvalidConfig,
                        "--hostname " + o.hostname + ": only letters, digits, '-', '_' and '.'");
    long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (o.limits.cpus && ncpu > 0 && *o.limits.cpus > static_cast<double>(ncpu))
        return fail(Code::InvalidConfig, "--cpus " + std::to_string(*o.limits.cpus) +
                                             ": range of CPUs is 0.01 to " + std::to_string(ncpu) +
                                             " (the host has " + std::to_string(ncpu) + ")");
    if (o.limits.pids && *o.limits.pids < 1 && *o.limits.pids != -1)
        return fail(Code::InvalidConfig, "--pids must be positive (or -1 for unlimited)");
    if (o.limits.cpuShares && (*o.limits.cpuShares < 2 || *o.limits.cpuShares > 262144))
        return fail(Code::InvalidConfig, "--cpu-shares must be in 2..262144");
    if (o.stopTimeout < 0) return fail(Code::InvalidConfig, "--stop-timeout must be >= 0");
    if ((!o.ip.empty() || !o.mac.empty()) && o.networks.size() > 1)
        return fail(Code::InvalidConfig, "--ip/--mac-address need exactly one network");
    if ((!o.ip.empty() || !o.mac.empty()) && o.net.kind != NsMode::Private)
        return fail(Code::InvalidConfig, "--ip/--mac-address need a container network");
    if (!o.workdir.starts_with("/")) return fail(Code::InvalidConfig, "--workdir must be absolute");
    if (o.limits.cpus && *o.limits.cpus < 0.01)
        return fail(Code::InvalidConfig, "--cpus must be at least 0.01");
    if (o.limits.memoryBytes && *o.limits.memoryBytes < (6 << 20))
        return fail(Code::InvalidConfig, "--memory must be at least 6m");
    if (o.limits.memorySwapBytes && *o.limits.memorySwapBytes >= 0 &&
        *o.limits.memorySwapBytes < o.limits.memoryBytes.value_or(0))
        return fail(Code::InvalidConfig, "--memory-swap must be at least --memory");
    if (o.limits.memorySwapBytes && !o.limits.memoryBytes)
        return fail(Code::InvalidConfig, "--memory-swap needs --memory");
    return {};
}

} // namespace tether::rt
