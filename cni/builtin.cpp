#include "cni/builtin.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <exception>
#include <map>

namespace tether::cni {

namespace {

struct Builtin {
    PluginFuncs funcs;
    PluginInfo info;
};

std::map<std::string, Builtin, std::less<>>& registry() {
    static std::map<std::string, Builtin, std::less<>> r;
    return r;
}

/// Whether `path` is the file this process runs (resolved once; symlinks followed as exec would).
bool isSelf(const std::string& path) {
    static const std::optional<std::pair<dev_t, ino_t>> self =
        []() -> std::optional<std::pair<dev_t, ino_t>> {
        struct stat st {};
        if (::stat("/proc/self/exe", &st) != 0) return std::nullopt;
        return std::pair{st.st_dev, st.st_ino};
    }();
    struct stat st {};
    return self && ::stat(path.c_str(), &st) == 0 && st.st_dev == self->first &&
           st.st_ino == self->second;
}

} // namespace

void registerBuiltinPlugin(std::string_view type, PluginFuncs funcs, PluginInfo info) {
    registry().insert_or_assign(std::string(type), Builtin{std::move(funcs), info});
}

Status validateBuiltinDelegate(std::string_view type, const CmdArgs& args) {
    auto it = registry().find(type);
    if (it == registry().end() || !it->second.funcs.validate) return {};
    auto path = findInPath(type, args.path);
    if (!path || !isSelf(*path)) return {};
    return it->second.funcs.validate(args);
}

std::optional<ExecRawOutput> runBuiltin(std::string_view type, const std::string& pluginPath,
                                        const std::vector<std::pair<std::string, std::string>>& env,
                                        std::string_view stdinData) {
    auto it = registry().find(type);
    if (it == registry().end() || !isSelf(pluginPath)) return std::nullopt;
    SkelIo io;
    io.getenv = [&env](std::string_view name) -> std::optional<std::string> {
        for (const auto& [k, v] : env)
            if (k == name) return v;
        const char* v = std::getenv(std::string(name).c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    };
    io.stdinData = stdinData;
    ExecRawOutput out;
    try {
        out.exitCode = pluginMainWith(it->second.funcs, it->second.info, io);
        out.out = std::move(io.out);
        out.err = std::move(io.err);
    } catch (const std::exception& e) {
        out = ExecRawOutput{};
        out.exitCode = 134;
        out.err = "terminate called after throwing an exception: " + std::string(e.what()) + "\n";
        out.waitStatus = SIGABRT; // as waitpid reports a process killed by that signal
        return out;
    }
    out.waitStatus = out.exitCode << 8; // as waitpid reports a normal exit with that code
    return out;
}

} // namespace tether::cni
