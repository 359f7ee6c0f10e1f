// `tether run` / `tether create` options: one table, used for parsing and for --help.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/verbs.hpp"

namespace tether::rt {
namespace {

using cli::Option;
using Setter = std::function<Status(const std::string&)>;

Expected<int64_t> integer(const std::string& v) {
    if (v.empty()) return fail(Code::InvalidConfig, "expected a number");
    errno = 0;
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return fail(Code::InvalidConfig, "expected a whole number");
    return static_cast<int64_t>(n);
}

/// What the table's setters fill besides RunOptions itself.
struct Extra {
    std::vector<std::string> nets;
    bool netSeen = false;
};

std::vector<Option> runOptions(RunOptions& o, Extra& x) {
    auto bytes = [](std::optional<int64_t>& out) -> Setter {
        return [&out](const std::string& v) -> Status {
            auto b = parseBytes(v);
            if (!b) return fail(Code::InvalidConfig, "expected a size like 64m, 1g or -1");
            out = *b;
            return {};
        };
    };
    auto env = [&o](const std::string& v) -> Status {
        auto e = TRY(parseEnvEntry(v));
        if (e) o.env.push_back(*e);
        return {};
    };
    auto envFile = [&o](const std::string& v) -> Status {
        auto list = TRY(readEnvFile(v));
        o.env.insert(o.env.end(), list.begin(), list.end());
        return {};
    };
    auto volume = [&o](const std::string& v) -> Status {
        o.volumes.push_back(TRY(parseVolume(v)));
        return {};
    };
    auto publish = [&o](const std::string& v) -> Status {
        for (auto& m : TRY(parsePortSpec(v)))
            o.portMappings.push_back(std::move(m));
        return {};
    };
    auto device = [&o](const std::string& v) -> Status {
        o.devices.push_back(TRY(parseDeviceFlag(v)));
        return {};
    };
    auto ulimit = [&o](const std::string& v) -> Status {
        o.ulimits.push_back(TRY(parseUlimit(v)));
        return {};
    };
    auto ns = [](const std::string& flag, NsMode& out) -> Setter {
        return [flag, &out](const std::string& v) -> Status {
            out = TRY(parseNsMode(flag, v));
            return {};
        };
    };
    auto pids = [&o](const std::string& v) -> Status {
        int64_t n = TRY(integer(v));
        if (n < -1)
            return fail(Code::InvalidConfig,
                        "--pids " + v + ": must be a positive number, or 0 / -1 for unlimited");
        if (n > 0)
            o.limits.pids = n;
        else
            o.limits.pids.reset();
        return {};
    };
    auto cpus = [&o](const std::string& v) -> Status {
        char* end = nullptr;
        double c = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0' || !std::isfinite(c))
            return fail(Code::InvalidConfig, "--cpus " + v + ": expected a number of CPUs (0.5)");
        long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
        if (c < 0.01 || (ncpu > 0 && c > static_cast<double>(ncpu)))
            return fail(Code::InvalidConfig, "--cpus " + v + ": range of CPUs is 0.01 - " +
                                                 std::to_string(ncpu) + " on this host");
        o.limits.cpus = c;
        return {};
    };
    auto shares = [&o](const std::string& v) -> Status {
        int64_t n = TRY(integer(v));
        if (n < 2 || n > 262144)
            return fail(Code::InvalidConfig, "--cpu-shares " + v + ": must be in 2..262144");
        o.limits.cpuShares = static_cast<uint64_t>(n);
        return {};
    };
    auto stopSignal = [&o](const std::string& v) -> Status {
        auto s = parseSignalName(v);
        if (!s) return fail(Code::InvalidConfig, "--stop-signal " + v + ": unknown signal");
        o.stopSignal = *s;
        return {};
    };
    auto stopTimeout = [&o](const std::string& v) -> Status {
        int64_t n = TRY(integer(v));
        if (n < 0 || n > 86400)
            return fail(Code::InvalidConfig, "--stop-timeout " + v + ": must be in 0..86400");
        o.stopTimeout = static_cast<int>(n);
        return {};
    };
    auto net = [&x](const std::string& v) -> Status {
        x.netSeen = true;
        x.nets.push_back(v);
        return {};
    };
    auto securityOpt = [&o](const std::string& v) -> Status { return applySecurityOpt(o, v); };
    auto dns = [&o](const std::string& v) -> Status {
        if (!validIp(v)) return fail(Code::InvalidConfig, "--dns " + v + ": not an IP address");
        o.dns.push_back(v);
        return {};
    };
    auto addHost = [&o](const std::string& v) -> Status {
        o.addHosts.push_back(TRY(parseAddHost(v)));
        return {};
    };
    auto ip = [&o](const std::string& v) -> Status {
        if (!validIp(v)) return fail(Code::InvalidConfig, "--ip " + v + ": not an IP address");
        o.ip = v;
        return {};
    };
    auto mac = [&o](const std::string& v) -> Status {
        bool ok = v.size() == 17;
        for (size_t i = 0; ok && i < v.size(); ++i)
            ok = i % 3 == 2 ? v[i] == ':' : std::isxdigit(static_cast<unsigned char>(v[i])) != 0;
        if (!ok)
            return fail(Code::InvalidConfig, "--mac-address " + v + ": expected xx:xx:xx:xx:xx:xx");
        o.mac = v;
        return {};
    };
    auto logOpt = [&o](const std::string& v) -> Status {
        if (!v.starts_with("max-size="))
            return fail(Code::InvalidConfig,
                        "--log-opt " + v + ": only max-size=SIZE is supported");
        auto b = parseBytes(v.substr(9));
        if (!b || *b < 4096)
            return fail(Code::InvalidConfig, "--log-opt " + v + ": expected a size >= 4k");
        o.logMaxBytes = *b;
        return {};
    };
    return {
        {"--name", "NAME", "Container name and id (default: 12 random hex digits)",
         cli::setString(o.id)},
        {"-d,--detach", "", "Run in the background and print the id", cli::setFlag(o.detach)},
        {"-i,--interactive", "", "Keep stdin open (else it is /dev/null)",
         cli::setFlag(o.interactive)},
        {"-t,--tty", "", "Give the command a terminal (the container's /dev/pts/0)",
         cli::setFlag(o.tty)},
        {"--rm", "", "Remove the container when it exits (always so in the foreground)",
         cli::setFlag(o.rm)},
        {"--rootfs", "DIR", "Directory bind-mounted as the root", cli::setString(o.rootfs)},
        {"--image", "DIR", "Directory used as the read-only overlay lower layer",
         cli::setString(o.image)},
        {"--read-only", "", "Mount the root read-only", cli::setFlag(o.readOnly)},
        {"-v,--volume", "HOST:CTR[:ro]", "Bind mount (repeatable)", volume},
        {"--hostname", "NAME", "Host name (default: the first 12 characters of the id)",
         cli::setString(o.hostname)},
        {"-e,--env", "NAME[=VALUE]", "Environment variable; NAME alone copies the caller's", env},
        {"--env-file", "FILE", "Environment variables, one NAME[=VALUE] a line", envFile},
        {"-w,--workdir", "DIR", "Working directory (absolute)", cli::setString(o.workdir)},
        {"-u,--user", "USER[:GROUP]", "Name or uid, from the rootfs's /etc/passwd and /etc/group",
         cli::setString(o.user)},
        {"--cap-add", "CAP", "Add a capability (or ALL)", cli::addString(o.capAdd)},
        {"--cap-drop", "CAP", "Drop a capability (or ALL)", cli::addString(o.capDrop)},
        {"--security-opt", "OPT",
         "seccomp=unconfined|FILE (Docker/OCI JSON profile), no-new-privileges", securityOpt},
        {"--init", "", "Run a reaping init as PID 1", cli::setFlag(o.init)},
        {"--userns", "", "Map container root to host uids 100000+65536", cli::setFlag(o.userns)},
        {"-m,--memory", "SIZE", "Memory limit (64m, 1g; at least 6m)", bytes(o.limits.memoryBytes)},
        {"--memory-swap", "SIZE", "Memory+swap limit (-1: unlimited)",
         bytes(o.limits.memorySwapBytes)},
        {"--pids,--pids-limit", "N", "Maximum number of processes (0 or -1: unlimited)", pids},
        {"--cpus", "X", "CPU quota in CPUs (0.01 up to the host's CPU count)", cpus},
        {"-c,--cpu-shares", "N", "Relative CPU weight, 2..262144", shares},
        {"--ulimit", "NAME=SOFT[:HARD]", "Resource limit (nofile=1024:4096)", ulimit},
        {"--device", "HOST[:CTR][:rwm]", "Add a host device (repeatable; e.g. /dev/fuse)", device},
        {"--net,--network", "NET", "Network name (repeatable), none, host or container:ID", net},
        {"-p,--publish", "[[IP:]HOST:]CTR[/proto]",
         "Publish ports; ranges 8080-8081:80-81; CTR alone: a free host port", publish},
        {"--ip", "ADDR", "Ask the IPAM plugin for this address (CNI_ARGS IP=)", ip},
        {"--mac-address", "MAC", "Ask the plugin for this MAC (CNI_ARGS MAC=)", mac},
        {"--dns", "ADDR", "Name server in /etc/resolv.conf (repeatable)", dns},
        {"--dns-search", "DOMAIN", "Search domain in /etc/resolv.conf",
         cli::addString(o.dnsSearch)},
        {"--dns-option", "OPT", "Option line in /etc/resolv.conf", cli::addString(o.dnsOption)},
        {"--add-host", "NAME:IP", "Extra line in /etc/hosts", addHost},
        {"--pid", "MODE", "PID namespace: host or container:ID", ns("--pid", o.pid)},
        {"--ipc", "MODE", "IPC namespace: host or container:ID", ns("--ipc", o.ipc)},
        {"--stop-signal", "SIG", "Signal `stop` sends first (default TERM)", stopSignal},
        {"--stop-timeout", "SECONDS", "Grace period of `stop` before SIGKILL (default 10)",
         stopTimeout},
        {"--log-opt", "max-size=SIZE", "Size of a detached container's log before rotation (8m)",
         logOpt},
    };
}

cli::Verb makeVerb(const std::string& verb, RunOptions& o, Extra& x) {
    cli::Verb v;
    v.name = verb;
    v.usage = "[OPTIONS] [--] COMMAND [ARG...]";
    v.summary = verb == "create" ? "Create a container (start it with `tether start`)"
                                 : "Run a command in a new container";
    v.options = runOptions(o, x);
    v.command = true;
    v.footer = "Options come before the command: everything from the first argument that is not "
               "an option\n(or after --) is the command and its arguments, passed untouched.";
    return v;
}

} // namespace

std::optional<int> parseSignalName(const std::string& s) {
    if (!s.empty() && s.size() < 4 && s.find_first_not_of("0123456789") == std::string::npos) {
        int n = std::atoi(s.c_str());
        if (n >= 1 && n < NSIG) return n;
        return std::nullopt;
    }
    std::string name;
    for (char c : s)
        name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.starts_with("SIG")) name = name.substr(3);
    for (int sig = 1; sig < NSIG; ++sig) {
        const char* abbrev = sigabbrev_np(sig);
        if (abbrev && name == abbrev) return sig;
    }
    return std::nullopt;
}

cli::Verb runVerbHelp(const std::string& verb) {
    static RunOptions o;
    static Extra x;
    return makeVerb(verb, o, x);
}

Expected<std::optional<RunOptions>> parseRunArgs(const std::string& verb,
                                                 const std::vector<std::string>& args) {
    RunOptions o;
    Extra x;
    cli::Verb v = makeVerb(verb, o, x);
    auto p = TRY(cli::parse(v, args));
    if (p.help) {
        std::fputs(cli::help(v).c_str(), stdout);
        return std::optional<RunOptions>();
    }
    o.command = p.command;
    if (o.command.empty())
        return fail(Code::InvalidConfig, "tether " + verb + " needs a command (tether " + verb +
                                             " [OPTIONS] [--] COMMAND [ARG...])");
    for (const auto& n : x.nets) {
        if (n == "none")
            o.net.kind = NsMode::None;
        else if (n == "host" || n.starts_with("container:"))
            o.net = TRY(parseNsMode("--net", n));
        else if (!validName(n))
            return fail(Code::InvalidConfig, "--net " + n + ": invalid network name");
        else
            o.networks.push_back(n);
    }
    if (x.nets.size() > 1 && o.net.kind != NsMode::Private)
        return fail(Code::InvalidConfig,
                    "--net none/host/container: cannot be combined with other --net values");
    if (verb == "create") o.createOnly = true;
    return std::optional<RunOptions>(std::move(o));
}

} // namespace tether::rt
