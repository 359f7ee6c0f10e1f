#include "nat/tool_exec.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>

#include <poll.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/spawn.hpp"
#include "base/unique_fd.hpp"

extern char** environ;

namespace tether::nat {

namespace {

using Fd = UniqueFd;

bool isExecutable(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

Status writeAll(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failErrno("write tool input", errno, Code::IoFailure);
        done += size_t(n);
    }
    if (::lseek(fd, 0, SEEK_SET) < 0) return failErrno("rewind tool input", errno, Code::IoFailure);
    return {};
}

std::string readAll(int fd) {
    std::string out;
    if (::lseek(fd, 0, SEEK_SET) < 0) return out;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, size_t(n));
    }
    return out;
}

// Waits for `pid` up to `timeout`; false when it is still running then.
bool waitExit(pid_t pid, std::chrono::milliseconds timeout) {
    int pidfd = int(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return true; // no pidfd: a blocking wait is all we can do
    Fd guard(pidfd);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{pidfd, POLLIN, 0};
        int r = ::poll(&p, 1, int(left.count()) + 1);
        if (r > 0 || (r < 0 && errno != EINTR)) return true;
    }
}

} // namespace

std::optional<std::string> findTool(const std::string& name) {
    std::string dirs;
    if (const char* p = std::getenv("PATH")) dirs = p;
    dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = dirs.substr(start, end - start);
        if (!dir.empty() && dir[0] == '/' && isExecutable(dir + "/" + name))
            return dir + "/" + name;
        start = end + 1;
    }
    return std::nullopt;
}

Expected<ToolRun> runTool(const std::string& path, const std::vector<std::string>& args,
                          const std::string& stdinData, std::chrono::milliseconds timeout) {
    Fd in(::memfd_create("tool-in", MFD_CLOEXEC)), out(::memfd_create("tool-out", MFD_CLOEXEC)),
        err(::memfd_create("tool-err", MFD_CLOEXEC));
    if (in.get() < 0 || out.get() < 0 || err.get() < 0)
        return failErrno("memfd for " + path, errno, Code::Internal);
    TRY(writeAll(in.get(), stdinData));

    std::vector<std::string> argvStrings{path};
    argvStrings.insert(argvStrings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(argvStrings.size() + 1);
    for (auto& s : argvStrings)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_t pid = TRY(spawnWithStdio(path, argv.data(), environ, in.get(), out.get(), err.get()));

    bool exited = waitExit(pid, timeout);
    if (!exited) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!exited)
        return fail(Code::TryAgainLater, path + " did not finish within " +
                                             std::to_string(timeout.count()) + " ms (killed)");
    ToolRun r;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = readAll(out.get());
    r.err = readAll(err.get());
    return r;
}

} // namespace tether::nat
