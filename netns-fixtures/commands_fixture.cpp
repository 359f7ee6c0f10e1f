// `tether fixture up|exec|ls|down|gc`: scratch topologies from the command line. Fixtures made
// by `up` are persistent (owned by no process) until `down`; `gc` removes those of processes
// that died. See docs/fixtures.md.
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "libnet/netns.hpp"
#include "netns-fixtures/commands_fixture.hpp"
#include "netns-fixtures/fixture.hpp"
#include "netns-fixtures/registry.hpp"
#include "netns-fixtures/topology.hpp"

namespace tether::fixture {

namespace {

struct Dirs {
    std::string netnsDir = "/run/netns";
    std::string stateDir = "/run/tether/fixtures";
};

[[noreturn]] void failWith(const Error& e) {
    std::cerr << "tether fixture: " << e.text() << "\n";
    throw CLI::RuntimeError(1);
}

template <class T> T orFail(Expected<T> v) {
    if (!v) failWith(v.error());
    return std::move(*v);
}

void orFail(const Status& st) {
    if (!st) failWith(st.error());
}

/// Accepts the name as printed by `up` or without the "tf-" prefix.
std::string fullName(const std::string& name) {
    return name.starts_with(kNamePrefix) ? name : std::string(kNamePrefix) + name;
}

void addUp(CLI::App& group, const std::shared_ptr<Dirs>& dirs) {
    auto file = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto* cmd =
        group.add_subcommand("up", "bring up the topology in FILE (persistent until `down`)");
    cmd->add_option("FILE", *file, "topology JSON")->required();
    cmd->add_option("--name", *name, "fixture name (default: random); \"tf-\" is prepended");
    cmd->callback([=] {
        Topology topo = orFail(Topology::load(*file));
        Options o{.name = *name,
                  .netnsDir = dirs->netnsDir,
                  .stateDir = dirs->stateDir,
                  .persistent = true};
        Fixture fx = orFail(Fixture::up(topo, o));
        std::cout << fx.name() << "\n";
        for (const auto& node : topo.namespaceNames())
            std::cout << "  " << node << "\t" << *fx.netnsPath(node) << "\n";
        fx.release();
    });
}

void addExec(CLI::App& group, const std::shared_ptr<Dirs>& dirs) {
    struct Args {
        std::string name, host;
        std::vector<std::string> argv;
    };
    auto a = std::make_shared<Args>();
    auto* cmd =
        group.add_subcommand("exec", "run a command inside a host: exec NAME HOST -- CMD...");
    cmd->add_option("NAME", a->name, "fixture name")->required();
    cmd->add_option("HOST", a->host, "host, switch or container of the topology")->required();
    cmd->add_option("CMD", a->argv, "command and arguments (after --)")->required();
    cmd->callback([=] {
        Record rec = orFail(readRecord(dirs->stateDir, fullName(a->name)));
        auto it = rec.netns.find(a->host);
        if (it == rec.netns.end())
            failWith(Error{Code::UnknownContainer,
                           "fixture " + rec.name + " has no host \"" + a->host + "\""});
        net::Netns ns = orFail(net::Netns::open(it->second));
        if (::setns(ns.fd(), CLONE_NEWNET) != 0) failWith(errnoError("enter " + it->second, errno));
        std::vector<char*> argv;
        for (auto& s : a->argv)
            argv.push_back(s.data());
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        std::cerr << "tether fixture: exec " << argv[0] << ": " << std::strerror(errno) << "\n";
        throw CLI::RuntimeError(127);
    });
}

void addLs(CLI::App& group, const std::shared_ptr<Dirs>& dirs) {
    auto asJson = std::make_shared<bool>(false);
    auto* cmd = group.add_subcommand("ls", "list fixtures");
    cmd->add_flag("--json", *asJson, "print JSON");
    cmd->callback([=] {
        auto records = listRecords(dirs->stateDir);
        if (*asJson) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& r : records)
                out.push_back({{"name", r.name},
                               {"ownerPid", r.ownerPid},
                               {"alive", r.ownerAlive()},
                               {"netns", r.netns}});
            std::cout << out.dump(2) << "\n";
            return;
        }
        std::cout << "NAME\tOWNER\tHOSTS\n";
        for (const auto& r : records) {
            std::string owner = r.ownerPid == 0  ? "persistent"
                                : r.ownerAlive() ? "pid " + std::to_string(r.ownerPid)
                                                 : "dead (gc removes it)";
            std::string hosts;
            for (const auto& [node, _] : r.netns)
                hosts += (hosts.empty() ? "" : ",") + node;
            std::cout << r.name << "\t" << owner << "\t" << hosts << "\n";
        }
    });
}

void addDown(CLI::App& group, const std::shared_ptr<Dirs>& dirs) {
    auto name = std::make_shared<std::string>();
    auto* cmd = group.add_subcommand("down", "tear down a fixture");
    cmd->add_option("NAME", *name, "fixture name")->required();
    cmd->callback([=] {
        Record rec = orFail(readRecord(dirs->stateDir, fullName(*name)));
        orFail(teardownRecord(rec));
    });
}

void addGc(CLI::App& group, const std::shared_ptr<Dirs>& dirs) {
    auto all = std::make_shared<bool>(false);
    auto* cmd = group.add_subcommand("gc", "remove fixtures whose owning process died");
    cmd->add_flag("--all", *all,
                  "also persistent fixtures and tf-* netns files that no fixture record owns");
    cmd->callback([=] {
        GcReport r = orFail(gc(dirs->stateDir, dirs->netnsDir, *all));
        for (const auto& n : r.fixtures)
            std::cout << "removed fixture " << n << "\n";
        for (const auto& p : r.strayNetns)
            std::cout << "removed netns " << p << "\n";
    });
}

} // namespace

void addFixtureCommands(CLI::App& app) {
    auto dirs = std::make_shared<Dirs>();
    auto* group =
        app.add_subcommand("fixture", "scratch network topologies for tests (docs/fixtures.md)");
    group->require_subcommand(1);
    group->add_option("--netns-dir", dirs->netnsDir, "where host namespaces are pinned")
        ->capture_default_str();
    group->add_option("--state-dir", dirs->stateDir, "where fixture records live")
        ->capture_default_str();
    addUp(*group, dirs);
    addExec(*group, dirs);
    addLs(*group, dirs);
    addDown(*group, dirs);
    addGc(*group, dirs);
}

} // namespace tether::fixture
