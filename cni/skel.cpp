#include "cni/skel.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <exception>

#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "cni/args.hpp"
#include "cni/json_limits.hpp"
#include "cni/version.hpp"

namespace tether::cni {

using nlohmann::json;

namespace {

constexpr size_t kMaxStdin = 4 * 1024 * 1024;

constexpr std::string_view kCommands[] = {"ADD", "DEL", "CHECK", "STATUS", "GC", "VERSION"};

std::span<const std::string_view> pluginVersions(const PluginInfo& info) {
    return info.versions.empty() ? supportedVersions() : info.versions;
}

bool supports(const PluginInfo& info, std::string_view v) {
    for (auto s : pluginVersions(info))
        if (s == v) return true;
    return false;
}

std::string joined(std::span<const std::string_view> items, std::string_view sep) {
    std::string s;
    for (auto v : items) {
        if (!s.empty()) s += sep;
        s += v;
    }
    return s;
}

bool truthy(const std::optional<std::string>& v) {
    if (!v) return false;
    std::string lower = *v;
    for (auto& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return lower == "1" || lower == "true";
}

/// CNI_NETNS must name a network namespace other than ours. On DEL a path that does not exist
/// any more is fine (the container is gone; handlers tolerate it). The namespace type is asked of
/// the kernel (NS_GET_NSTYPE): any nsfs file (a mount or PID namespace) passes a filesystem check.
Status checkNetns(const std::string& path, bool del, bool allowOwn) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
        int err = errno;
        if (del && err == ENOENT) return {};
        return failErrno("CNI_NETNS " + path, err, Code::InvalidNetns);
    }
    struct statfs fs {};
    if (fstatfs(fd.get(), &fs) != 0)
        return failErrno("CNI_NETNS " + path, errno, Code::InvalidNetns);
    if (static_cast<unsigned long>(fs.f_type) != NSFS_MAGIC)
        return fail(Code::InvalidNetns, "CNI_NETNS " + path + " is not a network namespace");
    int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (type >= 0 && type != CLONE_NEWNET)
        return fail(Code::InvalidNetns, "CNI_NETNS " + path + " is not a network namespace",
                    "it is a namespace of another type");
    if (allowOwn) return {};
    struct stat target {
    }, own{};
    if (fstat(fd.get(), &target) != 0)
        return failErrno("CNI_NETNS " + path, errno, Code::InvalidNetns);
    if (stat("/proc/thread-self/ns/net", &own) != 0)
        return failErrno("stat /proc/thread-self/ns/net", errno, Code::InvalidNetns);
    if (target.st_dev == own.st_dev && target.st_ino == own.st_ino)
        return fail(Code::InvalidNetns,
                    "plugin's netns and netns from CNI_NETNS should not be the same",
                    "CNI_NETNS " + path + " is the plugin's own network namespace");
    return {};
}

std::string versionJson(const PluginInfo& info, std::string_view stdinData) {
    std::string current(kCurrentVersion);
    if (!stdinData.empty() && stdinData.size() <= kMaxStdin && checkJsonText(stdinData, "")) {
        auto j = json::parse(stdinData, nullptr, false);
        if (j.is_object())
            if (auto it = j.find("cniVersion"); it != j.end() && it->is_string() &&
                                                supports(info, it->get_ref<const std::string&>()))
                current = it->get<std::string>();
    }
    json out = json::object();
    out["cniVersion"] = current;
    out["supportedVersions"] = json::array();
    for (auto v : pluginVersions(info))
        out["supportedVersions"].push_back(v);
    return out.dump() + "\n";
}

/// The per-command environment, validated. Fills everything in `a` but `conf`.
Status readEnv(const SkelIo& io, const PluginInfo& info, CmdArgs& a) {
    auto env = [&](const char* name) { return io.getenv(name).value_or(""); };
    a.containerId = env("CNI_CONTAINERID");
    a.netns = env("CNI_NETNS");
    a.ifname = env("CNI_IFNAME");
    a.args = env("CNI_ARGS");
    a.path = env("CNI_PATH");

    const bool attach = a.command == "ADD" || a.command == "CHECK" || a.command == "DEL";
    const bool needNetns = a.command != "DEL" || info.netnsRequiredOnDel;
    std::string missing;
    auto require = [&](const char* name, const std::string& value, bool needed) {
        if (!needed || !value.empty()) return;
        if (!missing.empty()) missing += ',';
        missing += name;
    };
    require("CNI_CONTAINERID", a.containerId, attach);
    require("CNI_NETNS", a.netns, attach && needNetns);
    require("CNI_IFNAME", a.ifname, attach);
    require("CNI_PATH", a.path, attach || a.command == "GC");
    if (!missing.empty())
        return fail(Code::InvalidEnv, "required env variables [" + missing + "] missing");
    if (attach) {
        TRY(validateContainerId(a.containerId));
        TRY(validateIfName(a.ifname));
    }
    return {};
}

/// Parses the config after reconciling its version with what the plugin supports.
Status readConfig(const PluginInfo& info, CmdArgs& a, std::string& errVersion) {
    if (a.stdinData.size() > kMaxStdin)
        return fail(Code::IoFailure, "error reading from stdin: config exceeds " +
                                         std::to_string(kMaxStdin) + " bytes");
    auto j = TRY(parseConfigJson(a.stdinData));
    auto version = TRY(configVersion(j));
    if (!supports(info, version))
        return fail(Code::IncompatibleVersion, "incompatible CNI versions",
                    "config is \"" + version + "\", plugin supports [" +
                        joined(pluginVersions(info), " ") + "]");
    errVersion = version;
    TRY(requireCommandAllowed(a.command, version));
    a.conf = TRY(parseNetConfObject(std::move(j)));
    TRY(validateNetworkName(a.conf.name));
    return {};
}

Expected<std::string> dispatch(const PluginFuncs& funcs, const CmdArgs& a) {
    auto call = [&](const std::function<Status(const CmdArgs&)>& f) -> Expected<std::string> {
        if (f) TRY(f(a));
        return std::string();
    };
    if (a.command == "ADD") {
        Result r;
        if (funcs.add)
            r = TRY(funcs.add(a));
        else if (a.conf.prevResult)
            r = *a.conf.prevResult;
        return TRY(toJson(r, a.conf.cniVersion)).dump(4) + "\n";
    }
    if (a.command == "DEL") return call(funcs.del);
    if (a.command == "CHECK") return call(funcs.check);
    if (a.command == "STATUS") return call(funcs.status);
    return call(funcs.gc);
}

/// The stderr level from TETHER_LOG_LEVEL (unset or empty: off).
Expected<log::Level> stderrLevel(const SkelIo& io) {
    auto v = io.getenv("TETHER_LOG_LEVEL");
    if (!v || v->empty()) return log::Level::Off;
    auto level = log::parseLevel(*v, "TETHER_LOG_LEVEL");
    if (!level) return fail(Code::InvalidEnv, level.error().msg);
    return *level;
}

/// The file sink from the config's logFile/logLevel keys (absent: none).
Status fileOptions(const NetConf& conf, log::Options& o) {
    const json* file = findKey(conf.raw, "logFile");
    const json* level = findKey(conf.raw, "logLevel");
    if (file && !file->is_null()) {
        if (!file->is_string()) return fail(Code::DecodeFailure, "logFile must be a string");
        o.file = file->get<std::string>();
        if (!o.file.empty() && o.file.front() != '/')
            return fail(Code::InvalidConfig, "logFile \"" + o.file + "\" must be an absolute path");
    }
    if (level && !level->is_null()) {
        if (!level->is_string()) return fail(Code::DecodeFailure, "logLevel must be a string");
        o.fileLevel = TRY(log::parseLevel(level->get<std::string>(), "logLevel"));
    }
    return {};
}

Expected<std::string> runLogged(const PluginFuncs& funcs, const PluginInfo& info, SkelIo& io,
                                CmdArgs& a, std::string& errVersion) {
    TRY(readConfig(info, a, errVersion));
    log::Options o = log::current();
    TRY(fileOptions(a.conf, o));
    log::ScopedOptions withFile(o);
    if (!withFile.status())
        io.err += "tether: " + withFile.status().error().text() + " (logging to it skipped)\n";
    std::string_view name = info.name.empty() ? std::string_view(a.conf.type) : info.name;
    log::ScopedContext context(log::active() ? fmt::format("{} {} container={} ifname={}", name,
                                                           a.command, a.containerId, a.ifname)
                                             : std::string());
    auto start = std::chrono::steady_clock::now();
    log::debug("netns={} network={} cniVersion={}", a.netns, a.conf.name, a.conf.cniVersion);
    log::trace("config: {}", a.stdinData);
    auto finish = [&](const Expected<std::string>& out) {
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        if (out)
            log::info("succeeded in {:.2f} ms", ms);
        else
            log::error("failed in {:.2f} ms: code {}: {}", ms,
                       static_cast<unsigned>(out.error().code), out.error().text());
        return out;
    };
    if (!a.netns.empty() && (a.command == "ADD" || a.command == "CHECK" || a.command == "DEL")) {
        auto netnsOk =
            checkNetns(a.netns, a.command == "DEL", truthy(io.getenv("CNI_NETNS_OVERRIDE")));
        if (!netnsOk) return finish(std::unexpected(netnsOk.error()));
    }
    try {
        return finish(dispatch(funcs, a));
    } catch (const std::exception& e) {
        return finish(fail(Code::Internal, e.what()));
    }
}

Expected<std::string> run(const PluginFuncs& funcs, const PluginInfo& info, SkelIo& io,
                          const std::string& command, std::string& errVersion) {
    bool known = false;
    for (auto c : kCommands)
        known = known || c == command;
    if (!known) return fail(Code::InvalidEnv, "unknown CNI_COMMAND: " + command);
    if (command == "VERSION") return versionJson(info, io.stdinData);

    log::Options o = log::current();
    o.stderrLevel = TRY(stderrLevel(io));
    log::ScopedOptions withStderr(o);
    CmdArgs a;
    a.command = command;
    TRY(readEnv(io, info, a));
    a.stdinData = std::move(io.stdinData);
    return runLogged(funcs, info, io, a, errVersion);
}

void writeAll(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        data.remove_prefix(static_cast<size_t>(n));
    }
}

/// Reads up to kMaxStdin + 1 bytes (one more than allowed, so oversize input is detected).
Expected<std::string> readStdin() {
    std::string data;
    char buf[65536];
    while (data.size() <= kMaxStdin) {
        ssize_t n = ::read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failErrno("error reading from stdin", errno, Code::IoFailure);
        if (n == 0) break;
        data.append(buf, static_cast<size_t>(n));
    }
    return data;
}

} // namespace

std::string errorJson(const Error& e, std::string_view cniVersion) {
    nlohmann::ordered_json j;
    j["cniVersion"] = cniVersion;
    j["code"] = static_cast<unsigned>(e.code);
    j["msg"] = e.msg;
    if (!e.details.empty()) j["details"] = e.details;
    return j.dump(4, ' ', false, json::error_handler_t::replace) + "\n";
}

int pluginMainWith(const PluginFuncs& funcs, const PluginInfo& info, SkelIo& io) {
    auto command = io.getenv("CNI_COMMAND").value_or("");
    if (command.empty()) {
        if (!info.about.empty()) io.err += std::string(info.about) + "\n";
        io.err += "CNI protocol versions supported: " + joined(pluginVersions(info), ", ") + "\n";
        return 0;
    }
    std::string errVersion(kCurrentVersion);
    auto out = run(funcs, info, io, command, errVersion);
    if (!out) {
        io.out += errorJson(out.error(), errVersion);
        return 1;
    }
    io.out += *out;
    return 0;
}

int pluginMain(const PluginFuncs& funcs, const PluginInfo& info) {
    SkelIo io;
    io.getenv = [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    };
    const char* command = std::getenv("CNI_COMMAND");
    bool wantsStdin = command && *command && !(std::string_view(command) == "VERSION" && isatty(0));
    if (wantsStdin) {
        auto data = readStdin();
        if (!data) {
            writeAll(1, errorJson(data.error(), kCurrentVersion));
            return 1;
        }
        io.stdinData = std::move(*data);
    }
    int rc = pluginMainWith(funcs, info, io);
    writeAll(2, io.err);
    writeAll(1, io.out);
    return rc;
}

} // namespace tether::cni
