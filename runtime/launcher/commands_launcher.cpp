// `tether run|ps|inspect|exec|kill|pause|resume|rm|gc`: flag parsing only; the work is in
// container.cpp and lifecycle.cpp.
#include <signal.h>

#include <cstdio>
#include <cstring>

#include <CLI/CLI.hpp>

#include "runtime/commands.hpp"
#include "runtime/launcher/container.hpp"
#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/lifecycle.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {
namespace {

[[noreturn]] void failWith(const Error& e, int code = 125) {
    std::fprintf(stderr, "tether: %s\n", e.text().c_str());
    throw CLI::RuntimeError(code);
}

template <class T> T orFail(Expected<T> r, int code = 125) {
    if (!r) failWith(r.error(), code);
    return std::move(*r);
}

void orFail(Status r, int code = 1) {
    if (!r) failWith(r.error(), code);
}

int parseSignal(const std::string& s) {
    // A number: 0..NSIG-1. std::stoi would throw out_of_range (and abort the CLI) on
    // "99999999999"; a number beyond the signals is an unknown signal like a bad name.
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
        if (s.size() <= 3 && std::stoi(s) < NSIG) return std::stoi(s);
        failWith(Error{Code::InvalidConfig, "unknown signal " + s});
    }
    std::string name = s.starts_with("SIG") ? s.substr(3) : s;
    for (int sig = 1; sig < NSIG; ++sig) {
        const char* abbrev = sigabbrev_np(sig);
        if (abbrev && name == abbrev) return sig;
    }
    failWith(Error{Code::InvalidConfig, "unknown signal " + s});
}

/// The arguments left after the options of a prefix_command() subcommand, without a leading "--".
/// The command of a prefix_command() subcommand: its one positional (declared so that CLI11
/// keeps a "--" inside the subcommand) followed by everything after it. CLI11 leaves the "--"
/// separator at the front of remaining().
std::vector<std::string> commandArgs(CLI::App* cmd, const std::string& first) {
    std::vector<std::string> out;
    if (!first.empty()) out.push_back(first);
    auto rest = cmd->remaining();
    if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}

struct RunFlags {
    std::string name, rootfs, image, hostname, workdir = "/", user, memory, memorySwap;
    std::vector<std::string> securityOpt;
    std::vector<std::string> volumes, env, capAdd, capDrop, nets, ports, ulimits;
    std::string command;
    std::string pid, ipc;
    bool readOnly = false, init = false, detach = false, userns = false;
    int64_t pids = 0;
    double cpus = 0;
    uint64_t cpuShares = 0;
};

void addRun(CLI::App& app, const LauncherPaths& paths) {
    auto* cmd = app.add_subcommand("run", "Run a command in a new container");
    auto f = std::make_shared<RunFlags>();
    cmd->add_option("--name", f->name, "Container id (default: random)");
    cmd->add_option("--rootfs", f->rootfs, "Directory bind-mounted as the root");
    cmd->add_option("--image", f->image, "Directory used as the read-only overlay lower layer");
    cmd->add_flag("--read-only", f->readOnly, "Mount the root read-only");
    cmd->add_option("-v,--volume", f->volumes, "HOST:CONTAINER[:ro] bind mount")
        ->allow_extra_args(false);
    cmd->add_option("--hostname", f->hostname, "Hostname (default: the id)");
    cmd->add_option("-e,--env", f->env, "KEY=VALUE environment variable")->allow_extra_args(false);
    cmd->add_option("-w,--workdir", f->workdir, "Working directory");
    cmd->add_option("-u,--user", f->user, "UID[:GID]");
    cmd->add_option("--cap-add", f->capAdd, "Add a capability (or ALL)")->allow_extra_args(false);
    cmd->add_option("--cap-drop", f->capDrop, "Drop a capability (or ALL)")
        ->allow_extra_args(false);
    cmd->add_option("--security-opt", f->securityOpt,
                    "seccomp=unconfined|FILE (Docker/OCI JSON profile), no-new-privileges")
        ->allow_extra_args(false);
    cmd->add_flag("--init", f->init, "Run a reaping init as PID 1");
    cmd->add_flag("-d,--detach", f->detach, "Run in the background, print the id");
    cmd->add_flag("--userns", f->userns, "Map container root to host uids 100000+65536");
    cmd->add_option("-m,--memory", f->memory, "Memory limit (e.g. 64m)");
    cmd->add_option("--memory-swap", f->memorySwap, "Memory+swap limit (-1 unlimited)");
    cmd->add_option("--pids", f->pids, "Maximum number of processes");
    cmd->add_option("--cpus", f->cpus, "CPU quota in CPUs (e.g. 0.5)");
    cmd->add_option("--cpu-shares", f->cpuShares, "Relative CPU weight (v1 shares)");
    cmd->add_option("--ulimit", f->ulimits, "NAME=SOFT[:HARD] resource limit (e.g. nofile=1024)")
        ->allow_extra_args(false);
    cmd->add_option("--net,--network", f->nets,
                    "Network name (repeatable), none, host or container:ID")
        ->allow_extra_args(false);
    cmd->add_option("-p,--publish", f->ports, "[HOSTIP:]HOSTPORT:CTRPORT[/proto]")
        ->allow_extra_args(false);
    cmd->add_option("--pid", f->pid, "PID namespace: host or container:ID");
    cmd->add_option("--ipc", f->ipc, "IPC namespace: host or container:ID");
    cmd->add_option("command", f->command, "Command and arguments");
    cmd->prefix_command();
    cmd->allow_extras();
    cmd->footer("Everything after the options (or after --) is the command and its arguments.");
    cmd->callback([f, &paths, cmd] {
        RunOptions o;
        o.id = f->name;
        o.command = commandArgs(cmd, f->command);
        o.rootfs = f->rootfs;
        o.image = f->image;
        o.readOnly = f->readOnly;
        for (const auto& v : f->volumes)
            o.volumes.push_back(orFail(parseVolume(v)));
        o.hostname = f->hostname;
        o.env = f->env;
        o.workdir = f->workdir;
        if (!f->user.empty()) std::tie(o.uid, o.gid) = orFail(parseUser(f->user));
        o.capAdd = f->capAdd;
        o.capDrop = f->capDrop;
        for (const auto& so : f->securityOpt) // launcher security: options.cpp
            orFail(applySecurityOpt(o, so), 125);
        o.init = f->init;
        o.detach = f->detach;
        o.userns = f->userns;
        auto bytes = [](const std::string& flag, const std::string& v) {
            auto b = parseBytes(v);
            if (!b)
                failWith(Error{Code::InvalidConfig, flag + " " + v + ": expected a size like 64m"});
            return *b;
        };
        if (!f->memory.empty()) o.limits.memoryBytes = bytes("--memory", f->memory);
        if (!f->memorySwap.empty())
            o.limits.memorySwapBytes = bytes("--memory-swap", f->memorySwap);
        if (f->pids > 0) o.limits.pids = f->pids;
        if (f->cpus > 0) o.limits.cpus = f->cpus;
        if (f->cpuShares > 0) o.limits.cpuShares = f->cpuShares;
        for (const auto& n : f->nets) {
            if (n == "none")
                o.net.kind = NsMode::None;
            else if (n == "host" || n.starts_with("container:"))
                o.net = orFail(parseNsMode("--net", n));
            else
                o.networks.push_back(n);
        }
        for (const auto& u : f->ulimits)
            o.ulimits.push_back(orFail(parseUlimit(u)));
        for (const auto& p : f->ports)
            o.portMappings.push_back(orFail(parsePortMapping(p)));
        if (!f->pid.empty()) o.pid = orFail(parseNsMode("--pid", f->pid));
        if (!f->ipc.empty()) o.ipc = orFail(parseNsMode("--ipc", f->ipc));
        int code = orFail(runContainer(paths, std::move(o)));
        if (code != 0) throw CLI::RuntimeError(code);
    });
}

void addLifecycle(CLI::App& app, const LauncherPaths& paths) {
    auto* ps = app.add_subcommand("ps", "List containers");
    ps->callback([&paths] {
        std::printf("%-14s %-8s %-8s %s\n", "ID", "PID", "STATUS", "COMMAND");
        for (const auto& st : listContainerStates(paths)) {
            std::string cmd;
            for (const auto& a : st.value("command", std::vector<std::string>{}))
                cmd += (cmd.empty() ? "" : " ") + a;
            std::printf("%-14s %-8d %-8s %s\n", st.value("id", "").c_str(), st.value("pid", 0),
                        st.value("status", "").c_str(), cmd.c_str());
        }
    });
    auto* inspect = app.add_subcommand("inspect", "Show a container's state as JSON");
    auto id = std::make_shared<std::string>();
    inspect->add_option("id", *id)->required();
    inspect->callback([&paths, id] {
        std::printf("%s\n", orFail(inspectContainer(paths, *id), 1).dump(2).c_str());
    });

    auto* exec = app.add_subcommand("exec", "Run a command in a running container");
    auto ex = std::make_shared<RunFlags>();
    exec->add_option("id", ex->name)->required();
    exec->add_option("-e,--env", ex->env, "KEY=VALUE")->allow_extra_args(false);
    exec->add_option("-w,--workdir", ex->workdir, "Working directory");
    exec->add_option("command", ex->command, "Command and arguments");
    exec->prefix_command();
    exec->allow_extras();
    exec->callback([&paths, ex, exec] {
        int code = orFail(
            execInContainer(paths, ex->name, commandArgs(exec, ex->command), ex->env, ex->workdir),
            125);
        if (code != 0) throw CLI::RuntimeError(code);
    });

    auto* kill = app.add_subcommand("kill", "Send a signal (default TERM) to a container");
    auto kid = std::make_shared<std::pair<std::string, std::string>>("", "TERM");
    kill->add_option("id", kid->first)->required();
    kill->add_option("signal", kid->second);
    kill->callback(
        [&paths, kid] { orFail(killContainer(paths, kid->first, parseSignal(kid->second))); });

    for (bool pause : {true, false}) {
        auto* c = app.add_subcommand(pause ? "pause" : "resume",
                                     pause ? "Freeze a container" : "Thaw a container");
        auto cid = std::make_shared<std::string>();
        c->add_option("id", *cid)->required();
        c->callback([&paths, cid, pause] { orFail(pauseContainer(paths, *cid, pause)); });
    }

    auto* rm = app.add_subcommand("rm", "Remove containers (-f kills running ones)");
    auto rmIds = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    rm->add_flag("-f,--force", *force);
    rm->add_option("ids", *rmIds)->required();
    rm->callback([&paths, rmIds, force] {
        bool ok = true;
        for (const auto& i : *rmIds)
            if (auto r = removeContainer(paths, i, *force); !r) {
                std::fprintf(stderr, "tether: %s\n", r.error().text().c_str());
                ok = false;
            }
        if (!ok) throw CLI::RuntimeError(1);
    });

    auto* gc = app.add_subcommand("gc", "Remove what crashed containers left behind");
    gc->callback([&paths] {
        for (const auto& line : gcContainers(paths))
            std::printf("%s\n", line.c_str());
    });
}

} // namespace

void addLauncherCommands(CLI::App& app) {
    static const LauncherPaths paths = LauncherPaths::fromEnv();
    addRun(app, paths);
    addLifecycle(app, paths);
}

} // namespace tether::rt
