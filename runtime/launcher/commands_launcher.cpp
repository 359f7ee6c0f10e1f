// The launcher's verbs (run, create, start, stop, ps, logs, ...): parsing with the strict
// parser of cli.hpp and dispatch; the work is in container.cpp, lifecycle*.cpp and logs.cpp.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <functional>

#include "runtime/commands.hpp"
#include "runtime/launcher/container.hpp"
#include "runtime/launcher/lifecycle.hpp"
#include "runtime/launcher/logs.hpp"
#include "runtime/launcher/ps.hpp"
#include "runtime/launcher/verbs.hpp"

namespace tether::rt {
namespace {

int report(const Error& e, int code = cli::kUsageExit) {
    std::fprintf(stderr, "tether: %s\n", e.text().c_str());
    return code;
}

/// Parses `args` for `verb`; prints help (returns false, rc 0) or the usage error (rc 125).
bool parseOr(const cli::Verb& verb, const std::vector<std::string>& args, cli::Parsed& out,
             int& rc) {
    auto p = cli::parse(verb, args);
    if (!p) {
        rc = report(p.error());
        return false;
    }
    if (p->help) {
        std::fputs(cli::help(verb).c_str(), stdout);
        rc = 0;
        return false;
    }
    out = std::move(*p);
    return true;
}

Status needIds(const cli::Verb& v, const cli::Parsed& p, size_t min = 1, size_t max = ~0UL) {
    if (p.positionals.size() < min || p.positionals.size() > max)
        return fail(Code::InvalidConfig,
                    "tether " + v.name + " " + v.usage + "\nSee 'tether " + v.name + " --help'.");
    return {};
}

std::function<Status(const std::string&)> setInt(int& out, int lo, int hi) {
    return [&out, lo, hi](const std::string& v) -> Status {
        char* end = nullptr;
        long n = std::strtol(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || n < lo || n > hi)
            return fail(Code::InvalidConfig,
                        "expected a number in " + std::to_string(lo) + ".." + std::to_string(hi));
        out = static_cast<int>(n);
        return {};
    };
}

/// Runs `fn` on every id; errors are printed; rc 125 when any failed.
int eachId(const std::vector<std::string>& ids,
           const std::function<Status(const std::string&)>& fn) {
    int rc = 0;
    for (const auto& id : ids)
        if (auto st = fn(id); !st) rc = report(st.error());
    return rc;
}

int cmdRun(const LauncherPaths& paths, const std::string& verb,
           const std::vector<std::string>& args) {
    auto o = parseRunArgs(verb, args);
    if (!o) return report(o.error());
    std::optional<RunOptions>& opts = *o;
    if (!opts) return 0;
    auto code = opts->createOnly ? createContainer(paths, std::move(*opts))
                                 : runContainer(paths, std::move(*opts));
    if (!code) return report(code.error());
    return *code;
}

int cmdExec(const LauncherPaths& paths, const std::string& name,
            const std::vector<std::string>& args) {
    ExecOptions x;
    cli::Verb v{
        name,
        "[OPTIONS] ID [--] COMMAND [ARG...]",
        "Run a command in a running container",
        {{"-e,--env", "NAME[=VALUE]", "Environment variable; NAME alone copies the caller's",
          [&x](const std::string& s) -> Status {
              auto e = TRY(parseEnvEntry(s));
              if (e) x.env.push_back(*e);
              return {};
          }},
         {"--env-file", "FILE", "Environment variables, one a line",
          [&x](const std::string& s) -> Status {
              auto l = TRY(readEnvFile(s));
              x.env.insert(x.env.end(), l.begin(), l.end());
              return {};
          }},
         {"-w,--workdir", "DIR", "Working directory", cli::setString(x.workdir)},
         {"-u,--user", "USER[:GROUP]", "User (default: the container's)", cli::setString(x.user)},
         {"-t,--tty", "", "Allocate a terminal", cli::setFlag(x.tty)},
         {"-i,--interactive", "", "Keep stdin open", cli::setFlag(x.interactive)}},
        1,
        true,
        ""};
    cli::Parsed p;
    int rc = 0;
    if (!parseOr(v, args, p, rc)) return rc;
    if (p.positionals.size() != 1 || p.command.empty())
        return report(Error{Code::InvalidConfig, "tether exec needs a container and a command"});
    x.argv = p.command;
    auto code = execInContainer(paths, p.positionals[0], x);
    if (!code) return report(code.error());
    return *code;
}

const char* verbSummary(const std::string& name);

int cmdSimple(const LauncherPaths& paths, const std::string& name,
              const std::vector<std::string>& args) {
    // Verbs that take only ids (and maybe -f/-t); gc takes none.
    bool force = false;
    int timeout = -1;
    std::string signal = "KILL";
    cli::Verb v{
        name, name == "gc" ? "[OPTIONS]" : "[OPTIONS] ID...", verbSummary(name), {}, 0, false, ""};
    if (name == "rm")
        v.options.push_back(
            {"-f,--force", "", "Kill running containers first", cli::setFlag(force)});
    if (name == "stop" || name == "restart")
        v.options.push_back(
            {"-t,--time", "SECONDS",
             "Grace period before SIGKILL (default: the container's --stop-timeout)",
             setInt(timeout, 0, 86400)});
    if (name == "kill") {
        v.usage = "[OPTIONS] ID [SIGNAL]";
        v.options.push_back(
            {"-s,--signal", "SIG", "Signal to send (default KILL)", cli::setString(signal)});
    }
    cli::Parsed p;
    int rc = 0;
    if (!parseOr(v, args, p, rc)) return rc;
    if (name == "gc") {
        if (!p.positionals.empty())
            return report(Error{Code::InvalidConfig, "tether gc takes no container ids (got " +
                                                         p.positionals[0] +
                                                         "); use tether rm to remove one"});
        std::vector<Error> unreadable;
        for (const auto& line : gcContainers(paths, &unreadable))
            std::printf("%s\n", line.c_str());
        for (const auto& e : unreadable)
            rc = report(e.wrap("kept (not torn down)"));
        return rc;
    }
    if (auto st = needIds(v, p, 1, name == "kill" ? 2 : ~0UL); !st) return report(st.error());
    if (name == "kill") {
        std::string s = p.positionals.size() == 2 ? p.positionals[1] : signal;
        auto sig = parseSignalName(s);
        if (!sig) return report(Error{Code::InvalidConfig, "unknown signal " + s});
        if (auto st = killContainer(paths, p.positionals[0], *sig); !st) return report(st.error());
        std::printf("%s\n", p.positionals[0].c_str());
        return 0;
    }
    std::function<Status(const std::string&)> fn;
    if (name == "rm") fn = [&](const std::string& id) { return removeContainer(paths, id, force); };
    if (name == "pause" || name == "resume" || name == "unpause")
        fn = [&](const std::string& id) { return pauseContainer(paths, id, name == "pause"); };
    if (name == "stop")
        fn = [&](const std::string& id) -> Status {
            auto what = TRY(stopContainer(paths, id, timeout));
            if (!what.empty()) std::fprintf(stderr, "tether: %s: %s\n", id.c_str(), what.c_str());
            return {};
        };
    if (name == "start") fn = [&](const std::string& id) { return startContainer(paths, id); };
    if (name == "restart")
        fn = [&](const std::string& id) -> Status {
            TRY(stopContainer(paths, id, timeout));
            return startContainer(paths, id);
        };
    if (name == "wait") {
        for (const auto& id : p.positionals) {
            auto code = waitContainer(paths, id);
            if (!code) {
                rc = report(code.error());
                continue;
            }
            std::printf("%d\n", *code);
            std::fflush(stdout);
        }
        return rc;
    }
    return eachId(p.positionals, [&](const std::string& id) -> Status {
        TRY(fn(id));
        std::printf("%s\n", id.c_str());
        return {};
    });
}

int cmdPs(const LauncherPaths& paths, const std::string& name,
          const std::vector<std::string>& args) {
    PsOptions o;
    cli::Verb v{name,
                "[OPTIONS]",
                "List containers (running ones; -a: all)",
                {{"-a,--all", "", "Show exited and created containers too", cli::setFlag(o.all)},
                 {"-q,--quiet", "", "Only the ids", cli::setFlag(o.quiet)},
                 {"--no-trunc", "", "Do not shorten the command", cli::setFlag(o.noTrunc)},
                 {"--format", "table|json", "Output format", cli::setString(o.format)}},
                0,
                false,
                ""};
    cli::Parsed p;
    int rc = 0;
    if (!parseOr(v, args, p, rc)) return rc;
    if (auto st = needIds(v, p, 0, 0); !st) return report(st.error());
    if (o.format != "table" && o.format != "json")
        return report(
            Error{Code::InvalidConfig, "--format " + o.format + ": expected table or json"});
    std::vector<Error> unreadable;
    std::fputs(formatPs(listContainerStates(paths, &unreadable), o).c_str(), stdout);
    for (const auto& e : unreadable) // the others are listed: say what is wrong, exit 0
        std::fprintf(stderr, "tether: %s (not listed)\n", e.text().c_str());
    return 0;
}

int cmdInspect(const LauncherPaths& paths, const std::string& name,
               const std::vector<std::string>& args) {
    bool raw = false;
    cli::Verb v{
        name,
        "[OPTIONS] ID...",
        "Show containers as JSON (one object; an array for several ids)",
        {{"--raw", "", "The state file as recorded (no derived fields)", cli::setFlag(raw)}},
        0,
        false,
        ""};
    cli::Parsed p;
    int rc = 0;
    if (!parseOr(v, args, p, rc)) return rc;
    if (auto st = needIds(v, p); !st) return report(st.error());
    nlohmann::json all = nlohmann::json::array();
    for (const auto& id : p.positionals) {
        auto st = inspectContainer(paths, id);
        if (!st) {
            rc = report(st.error());
            continue;
        }
        all.push_back(raw ? toJson(*st) : inspectView(*st));
    }
    if (!all.empty()) std::printf("%s\n", (all.size() == 1 ? all[0] : all).dump(2).c_str());
    return rc;
}

int cmdLogs(const LauncherPaths& paths, const std::string& name,
            const std::vector<std::string>& args) {
    LogsOptions o;
    cli::Verb v{name,
                "[OPTIONS] ID",
                "Show the output of a detached container",
                {{"-f,--follow", "", "Keep printing new output until the container exits",
                  cli::setFlag(o.follow)},
                 {"-n,--tail", "N", "Only the last N lines", setInt(o.tail, 0, 1 << 30)},
                 {"-t,--timestamps", "", "Prefix each line with its RFC 3339 time",
                  cli::setFlag(o.timestamps)}},
                0,
                false,
                ""};
    cli::Parsed p;
    int rc = 0;
    if (!parseOr(v, args, p, rc)) return rc;
    if (auto st = needIds(v, p, 1, 1); !st) return report(st.error());
    if (auto st = printLogs(paths, p.positionals[0], o); !st) return report(st.error());
    return 0;
}

using Handler = int (*)(const LauncherPaths&, const std::string&, const std::vector<std::string>&);
struct VerbEntry {
    const char* name;
    const char* summary;
    Handler fn;
};

const VerbEntry kVerbs[] = {
    {"run", "Run a command in a new container", cmdRun},
    {"create", "Create a container without starting it", cmdRun},
    {"start", "Start created or exited containers (detached)", cmdSimple},
    {"stop", "Stop containers: stop signal, SIGKILL after the grace period", cmdSimple},
    {"restart", "Stop and start containers", cmdSimple},
    {"kill", "Send a signal (default KILL) to a container", cmdSimple},
    {"wait", "Wait for containers to exit and print their exit codes", cmdSimple},
    {"logs", "Show a detached container's output", cmdLogs},
    {"ps", "List containers", cmdPs},
    {"inspect", "Show containers as JSON", cmdInspect},
    {"exec", "Run a command in a running container", cmdExec},
    {"pause", "Freeze containers", cmdSimple},
    {"resume", "Thaw containers", cmdSimple},
    {"unpause", "Thaw containers (alias of resume)", cmdSimple},
    {"rm", "Remove containers (-f: kill running ones first)", cmdSimple},
    {"gc", "Remove what crashed containers left behind", cmdSimple},
};

const char* verbSummary(const std::string& name) {
    for (const auto& e : kVerbs)
        if (name == e.name) return e.summary;
    return "";
}

} // namespace

bool isLauncherVerb(const std::string& verb) {
    for (const auto& v : kVerbs)
        if (verb == v.name) return true;
    return false;
}

std::vector<std::string> launcherVerbs() {
    std::vector<std::string> out;
    for (const auto& v : kVerbs)
        out.emplace_back(v.name);
    return out;
}

std::string launcherVerbHelp() {
    std::string out = "Containers:\n";
    for (const auto& v : kVerbs) {
        std::string line = std::string("  ") + v.name;
        line.resize(12, ' ');
        out += line + v.summary + "\n";
    }
    return out;
}

int runLauncherVerb(const std::vector<std::string>& args) {
    static const LauncherPaths paths = LauncherPaths::fromEnv();
    std::vector<std::string> rest(args.begin() + 1, args.end());
    for (const auto& v : kVerbs)
        if (args[0] == v.name) return v.fn(paths, v.name, rest);
    return cli::kUsageExit;
}

} // namespace tether::rt
