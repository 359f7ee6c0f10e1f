#include "netns-fixtures/fixture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "libcni/attach.hpp"
#include "libnet/addr.hpp"
#include "libnet/link.hpp"
#include "netns-fixtures/fixture_state.hpp"

namespace tether::fixture {

namespace {

/// The container's cniPath, else the one resolver `tether net` and `tether run` use too
/// ($CNI_PATH, else the plugins beside the running binary, the install tree's, the compiled-in
/// dir).
std::string cniPathFor(const ContainerSpec& c) {
    if (!c.cniPath.empty()) return c.cniPath;
    return rt::NetPaths::fromEnv().cniPath;
}

/// The record of what `up` will create, with every path decided before anything exists.
Record planRecord(const Topology& t, const Options& o, const std::string& name) {
    Record r;
    r.name = name;
    r.netnsDir = o.netnsDir;
    r.stateDir = o.stateDir;
    if (!o.persistent) {
        r.ownerPid = ::getpid();
        r.ownerStart = processStartTime(r.ownerPid);
    }
    for (const auto& node : t.namespaceNames())
        r.netns[node] = o.netnsDir + "/" + name + "-" + node;
    for (const auto& c : t.containers) {
        std::string network = c.conflist["name"].get<std::string>();
        r.containers.push_back({.name = c.name,
                                .hostNetns = r.netns[c.host],
                                .netns = r.netns[c.name],
                                .network = network,
                                .configDir = r.dir() + "/cni/" + c.name,
                                .cniPath = cniPathFor(c),
                                .cacheDir = r.dir() + "/cni-cache",
                                .containerId = name + "-" + c.name});
    }
    return r;
}

Status writeConflists(const Topology& t, const Record& r) {
    for (size_t i = 0; i < t.containers.size(); ++i) {
        const auto& c = r.containers[i];
        std::error_code ec;
        std::filesystem::create_directories(c.configDir, ec);
        if (ec) return failErrno("create " + c.configDir, ec.value(), Code::IoFailure);
        std::string path = c.configDir + "/" + c.network + ".conflist";
        nlohmann::json list = t.containers[i].conflist;
        // host-local would otherwise keep its leases in /var/lib/cni on the real host.
        for (auto& plugin : list["plugins"])
            if (plugin.is_object() && plugin.contains("ipam") && plugin["ipam"].is_object() &&
                !plugin["ipam"].contains("dataDir"))
                plugin["ipam"]["dataDir"] = r.dir() + "/ipam";
        std::ofstream out(path, std::ios::trunc);
        out << list.dump(2) << '\n';
        if (!out.flush()) return fail(Code::IoFailure, "write " + path);
    }
    return {};
}

} // namespace

std::string randomFixtureName() {
    static thread_local std::mt19937_64 rng(std::random_device{}() ^
                                            (static_cast<uint64_t>(::getpid()) << 32));
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rng()));
    return std::string(kNamePrefix) + buf;
}

Fixture::Fixture(std::unique_ptr<State> s) : state_(std::move(s)) {}
Fixture::Fixture(Fixture&&) noexcept = default;
Fixture& Fixture::operator=(Fixture&& other) noexcept {
    if (this != &other) {
        (void)down();
        state_ = std::move(other.state_);
    }
    return *this;
}

Fixture::~Fixture() {
    if (auto st = down(); !st)
        std::fprintf(stderr, "tether fixture: %s\n", st.error().text().c_str());
}

Expected<Fixture> Fixture::up(const Topology& topology, const Options& options) {
    std::string name = options.name.empty() ? randomFixtureName() : options.name;
    if (!name.starts_with(kNamePrefix)) name = std::string(kNamePrefix) + name;
    TRY(validateName(name, "fixture name"));

    auto state = std::make_unique<State>();
    state->topology = topology;
    state->record = planRecord(topology, options, name);
    state->sharedNetnsDir = options.netnsDir == "/run/netns";
    for (const auto& [node, path] : state->record.netns) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0)
            return fail(Code::Conflict, "netns file " + path + " for " + node + " already exists");
    }
    TRY(claimRecord(state->record));
    Fixture fx(std::move(state)); // from here on, the destructor undoes a partial bring-up
    if (auto st = writeConflists(fx.state_->topology, fx.state_->record); !st) {
        auto err = std::move(st).error().wrap("bring up fixture " + name);
        if (auto td = fx.down(); !td) err.details += td.error().text();
        return std::unexpected(std::move(err));
    }
    if (auto st = bringUp(*fx.state_); !st) {
        auto err = std::move(st).error().wrap("bring up fixture " + name);
        if (auto td = fx.down(); !td)
            err.details += (err.details.empty() ? "" : "; ") + td.error().text();
        return std::unexpected(std::move(err));
    }
    fx.state_->sockets.clear();
    return fx;
}

Status Fixture::down() {
    if (!state_) return {};
    state_->sockets.clear();
    state_->netns.clear();
    Record rec = state_->record;
    state_.reset();
    return teardownRecord(rec);
}

void Fixture::release() {
    state_.reset();
}

const std::string& Fixture::name() const {
    return state_->record.name;
}
const Topology& Fixture::topology() const {
    return state_->topology;
}

Expected<std::string> Fixture::netnsPath(std::string_view node) const {
    if (!state_) return fail(Code::UnknownContainer, "fixture is down");
    auto it = state_->record.netns.find(std::string(node));
    if (it == state_->record.netns.end())
        return fail(Code::UnknownContainer,
                    "fixture " + name() + " has no host \"" + std::string(node) + "\"");
    return it->second;
}

Expected<const net::Netns*> Fixture::netns(std::string_view node) const {
    if (!state_) return fail(Code::UnknownContainer, "fixture is down");
    auto it = state_->netns.find(node);
    if (it == state_->netns.end())
        return fail(Code::UnknownContainer,
                    "fixture " + name() + " has no host \"" + std::string(node) + "\"");
    return &it->second;
}

Expected<ExecResult> Fixture::run(std::string_view node, const std::vector<std::string>& argv,
                                  int timeoutSec) const {
    auto ns = TRY(netns(node));
    return execIn(*ns, argv, timeoutSec);
}

Expected<net::IpAddress> Fixture::address(std::string_view node, std::string_view ifname,
                                          net::Family family) const {
    auto ns = TRY(netns(node));
    auto sock = TRY(net::NetlinkSocket::openIn(*ns));
    auto link = TRY(net::findLink(sock, ifname));
    std::string where = std::string(node) + "/" + std::string(ifname);
    if (!link) return fail(Code::UnknownContainer, "no interface " + where);
    for (const auto& a : TRY(net::listAddresses(sock, link->index, family))) {
        const auto& ip = a.prefix.address();
        if (!ip.isV4() && ip.bytes()[0] == 0xfe && (ip.bytes()[1] & 0xc0) == 0x80) continue;
        return ip;
    }
    return fail(Code::UnknownContainer, std::string("no IPv") +
                                            (family == net::Family::V4 ? "4" : "6") +
                                            " address on " + where);
}

namespace {

/// Runs argv with the child in `ns` (nullptr: where the caller is); see execIn.
Expected<ExecResult> runCommand(const net::Netns* ns, const std::vector<std::string>& argv,
                                int timeoutSec) {
    if (argv.empty()) return fail(Code::InvalidConfig, "exec: empty command");
    int outPipe[2], errPipe[2];
    if (::pipe2(outPipe, O_CLOEXEC) != 0) return failErrno("pipe", errno);
    if (::pipe2(errPipe, O_CLOEXEC) != 0) {
        int err = errno;
        ::close(outPipe[0]);
        ::close(outPipe[1]);
        return failErrno("pipe", err);
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        for (int fd : {outPipe[0], outPipe[1], errPipe[0], errPipe[1]})
            ::close(fd);
        return failErrno("fork", err);
    }
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        ::dup2(outPipe[1], 1);
        ::dup2(errPipe[1], 2);
        if (ns && ::setns(ns->fd(), CLONE_NEWNET) != 0) {
            dprintf(2, "setns %s: %s\n", ns->path().c_str(), std::strerror(errno));
            _exit(126);
        }
        ::execvp(args[0], args.data());
        dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    ::close(outPipe[1]);
    ::close(errPipe[1]);
    ExecResult res;
    pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&res.out, &res.err};
    int open = 2;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSec);
    bool killed = false;
    while (open > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0 && !killed) {
            ::kill(pid, SIGKILL);
            killed = true;
        }
        int rc = ::poll(fds, 2, left > 0 ? static_cast<int>(left) : 100);
        if (rc < 0 && errno == EINTR) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    res.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return res;
}

} // namespace

Expected<ExecResult> execIn(const net::Netns& ns, const std::vector<std::string>& argv,
                            int timeoutSec) {
    return runCommand(&ns, argv, timeoutSec);
}

Expected<ExecResult> execHere(const std::vector<std::string>& argv, int timeoutSec) {
    return runCommand(nullptr, argv, timeoutSec);
}

} // namespace tether::fixture
