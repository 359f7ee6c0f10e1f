#include "tests/support/scratch_netns.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "libnet/link.hpp"

namespace tether::test {

namespace {

net::Netns mustCreate(const std::string& path) {
    auto ns = net::createPinnedNetns(path);
    if (!ns) FAIL("create scratch netns " << path << ": " << ns.error().text());
    return std::move(*ns);
}

net::NetlinkSocket mustOpen(const net::Netns& ns) {
    auto sock = net::NetlinkSocket::openIn(ns);
    if (!sock) FAIL("netlink socket in " << ns.path() << ": " << sock.error().text());
    return std::move(*sock);
}

ExecResult runCommand(const net::Netns* ns, const std::vector<std::string>& argv, int timeoutSec) {
    if (argv.empty()) FAIL("exec: empty argv");
    int outPipe[2], errPipe[2];
    if (pipe2(outPipe, O_CLOEXEC) != 0 || pipe2(errPipe, O_CLOEXEC) != 0)
        FAIL("pipe: " << std::strerror(errno));
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) FAIL("fork: " << std::strerror(errno));
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(outPipe[1], 1);
        dup2(errPipe[1], 2);
        if (ns && setns(ns->fd(), CLONE_NEWNET) != 0) {
            dprintf(2, "setns %s: %s\n", ns->path().c_str(), std::strerror(errno));
            _exit(126);
        }
        execvp(args[0], args.data());
        dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    close(outPipe[1]);
    close(errPipe[1]);
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
            kill(pid, SIGKILL);
            killed = true;
        }
        int rc = poll(fds, 2, left > 0 ? static_cast<int>(left) : 100);
        if (rc < 0 && errno == EINTR) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    res.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return res;
}

} // namespace

nlohmann::json ExecResult::json() const {
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (j.is_discarded()) FAIL("command output is not JSON: " << out << " / " << err);
    return j;
}

ExecResult execHere(const std::vector<std::string>& argv, int timeoutSec) {
    return runCommand(nullptr, argv, timeoutSec);
}

ExecResult execIn(const net::Netns& ns, const std::vector<std::string>& argv, int timeoutSec) {
    return runCommand(&ns, argv, timeoutSec);
}

ScratchNetns::ScratchNetns() : path_(dir_ / "netns"), ns_(mustCreate(path_)), nl_(mustOpen(ns_)) {
    auto lo = net::getLink(nl_, "lo");
    if (!lo) FAIL("scratch netns: " << lo.error().text());
    if (auto st = net::setLinkUp(nl_, lo->index, true); !st)
        FAIL("scratch netns lo up: " << st.error().text());
}

ScratchNetns::~ScratchNetns() {
    // The socket and fd keep the namespace alive; the pin goes first so the namespace dies with
    // the last handle.
    (void)net::removePinnedNetns(path_);
}

void ScratchNetns::failIfNotEntered(const net::NetnsGuard& guard) {
    if (!guard.ok()) FAIL("enter scratch netns: " << guard.error().text());
}

} // namespace tether::test
