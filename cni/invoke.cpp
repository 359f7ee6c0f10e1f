#include "cni/invoke.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>

#include "base/spawn.hpp"
#include "base/unique_fd.hpp"
#include "cni/args.hpp"
#include "cni/builtin.hpp"
#include "cni/config.hpp"
#include "cni/json_limits.hpp"

extern char** environ;

namespace tether::cni {

using nlohmann::json;

namespace {

using Fd = UniqueFd;

struct Pipe {
    Fd read, write;
};

Expected<Pipe> makePipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return failErrno("pipe", errno, Code::IoFailure);
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

/// A spawned child: killed (SIGKILL) and reaped on destruction unless waited for.
class Child {
  public:
    explicit Child(pid_t pid) : pid_(pid) {}
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    /// Blocks until the child exits; returns its wait status.
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return status;
    }
    void kill() { ::kill(pid_, SIGKILL); }
    [[nodiscard]] pid_t pid() const { return pid_; }

  private:
    pid_t pid_;
};

/// KEY=VALUE strings: our environ (optionally) with `overrides` replacing the same keys.
std::vector<std::string> buildEnv(const ExecRequest& req) {
    std::vector<std::string> env;
    auto overridden = [&](std::string_view entry) {
        auto key = entry.substr(0, entry.find('='));
        for (const auto& [k, v] : req.env)
            if (k == key) return true;
        return false;
    };
    if (req.inheritEnv)
        for (char** e = environ; e && *e; ++e)
            if (!overridden(*e)) env.emplace_back(*e);
    for (size_t i = 0; i < req.env.size(); ++i) {
        bool laterWins = false;
        for (size_t j = i + 1; j < req.env.size(); ++j)
            laterWins |= req.env[j].first == req.env[i].first;
        if (!laterWins) env.push_back(req.env[i].first + "=" + req.env[i].second);
    }
    return env;
}

Expected<pid_t> spawn(const ExecRequest& req, int in, int out, int err) {
    auto envStrings = buildEnv(req);
    std::vector<char*> envp;
    envp.reserve(envStrings.size() + 1);
    for (auto& s : envStrings)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string path = req.pluginPath;
    char* argv[] = {path.data(), nullptr};

    // A plugin binary being replaced (cp over it) can be busy for a moment: ETXTBSY is retried.
    return spawnWithStdio(path, argv, envp.data(), in, out, err);
}

/// Writes to a pipe without letting SIGPIPE kill us when the child closed its stdin early.
ssize_t writeNoSigpipe(int fd, const char* data, size_t len) {
    sigset_t pipeSet, old;
    sigemptyset(&pipeSet);
    sigaddset(&pipeSet, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    bool wasPending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeSet, &old);
    ssize_t n = ::write(fd, data, len);
    int saved = errno;
    if (n < 0 && saved == EPIPE && !wasPending) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipeSet, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = saved;
    return n;
}

/// True once `child` has exited (not reaped yet), false when `deadline` passed first.
bool waitUntil(const Child& child, std::chrono::steady_clock::time_point deadline) {
    Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid(), 0)));
    if (pidfd.get() < 0) return true; // no pidfd: a blocking wait is all we can do
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{pidfd.get(), POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return true;
    }
}

std::string describeStatus(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "wait status " + std::to_string(status);
}

/// `s` as a JSON string literal (invalid UTF-8 replaced), like Go's %q for text.
std::string quoted(const std::string& s) {
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

/// The Error a failed plugin reported, as libcni decodes it.
Error pluginError(const ExecRawOutput& o) {
    std::string status = describeStatus(o.waitStatus);
    if (o.out.empty()) {
        if (o.err.empty())
            return Error{Code::Internal, "netplugin failed with no error message", status};
        return Error{Code::Internal, "netplugin failed: " + quoted(o.err), status};
    }
    auto j = checkJsonText(o.out, "") ? json::parse(o.out, nullptr, false) : json();
    if (!j.is_object() || !j.contains("code") || !j["code"].is_number_unsigned() ||
        (j.contains("msg") && !j["msg"].is_string()) ||
        (j.contains("details") && !j["details"].is_string()))
        return Error{Code::Internal,
                     "netplugin failed but error parsing its diagnostic message " + quoted(o.out),
                     status};
    Error e;
    e.code = static_cast<Code>(j["code"].get<unsigned>());
    e.msg = j.value("msg", "");
    e.details = j.value("details", "");
    return e;
}

std::optional<std::string> ourEnv(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
}

Expected<ExecOutput> delegate(std::string_view type, std::string_view command,
                              std::string_view stdinData) {
    auto path = TRY(findInPath(type, ourEnv("CNI_PATH").value_or("")));
    ExecRequest req;
    req.pluginPath = std::move(path);
    req.env = {{"CNI_COMMAND", std::string(command)}};
    req.stdinData = stdinData;
    auto builtin = runBuiltin(type, req.pluginPath, req.env, req.stdinData);
    auto raw = builtin ? std::move(*builtin) : TRY(execPluginRaw(req));
    // The spec sends a delegate's stderr to the caller's stderr.
    if (!raw.err.empty()) (void)!::write(2, raw.err.data(), raw.err.size());
    if (raw.exitCode != 0) return std::unexpected(pluginError(raw));
    return ExecOutput{std::move(raw.out), std::move(raw.err)};
}

} // namespace

Expected<std::string> findInPath(std::string_view type, std::string_view cniPath) {
    TRY(validatePluginType(type));
    std::string dirs;
    size_t start = 0;
    while (start <= cniPath.size()) {
        size_t end = cniPath.find(':', start);
        if (end == std::string_view::npos) end = cniPath.size();
        std::string_view dir = cniPath.substr(start, end - start);
        start = end + 1;
        if (dir.empty()) continue;
        if (!dirs.empty()) dirs += ' ';
        dirs += dir;
        std::string candidate = std::string(dir) + "/" + std::string(type);
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return fail(Code::InvalidConfig,
                "failed to find plugin \"" + std::string(type) + "\" in path [" + dirs + "]");
}

Expected<ExecRawOutput> execPluginRaw(const ExecRequest& req) {
    auto in = TRY(makePipe());
    auto out = TRY(makePipe());
    auto err = TRY(makePipe());
    Child child(TRY(spawn(req, in.read.get(), out.write.get(), err.write.get())));
    in.read.reset();
    out.write.reset();
    err.write.reset();
    for (int fd : {in.write.get(), out.read.get(), err.read.get()})
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (req.stdinData.empty()) in.write.reset();

    ExecRawOutput result;
    size_t written = 0;
    const auto deadline = std::chrono::steady_clock::now() + req.timeout;
    char buf[65536];
    while (out.read.get() >= 0 || err.read.get() >= 0) {
        pollfd fds[3];
        nfds_t n = 0;
        auto add = [&](const Fd& fd, short events) {
            if (fd.get() >= 0) fds[n++] = pollfd{fd.get(), events, 0};
        };
        add(in.write, POLLOUT);
        add(out.read, POLLIN);
        add(err.read, POLLIN);
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        int ready = left.count() > 0 ? ::poll(fds, n, static_cast<int>(left.count()) + 1) : 0;
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return failErrno("poll " + req.pluginPath, errno, Code::IoFailure);
        if (ready == 0) {
            child.kill();
            child.wait();
            return fail(Code::TryAgainLater, "plugin " + req.pluginPath + " timed out after " +
                                                 std::to_string(req.timeout.count()) +
                                                 " ms and was killed");
        }
        for (nfds_t i = 0; i < n; ++i) {
            if (!fds[i].revents) continue;
            if (fds[i].fd == in.write.get()) {
                ssize_t w = writeNoSigpipe(in.write.get(), req.stdinData.data() + written,
                                           req.stdinData.size() - written);
                if (w > 0) written += static_cast<size_t>(w);
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == req.stdinData.size())
                    in.write.reset();
                continue;
            }
            bool isOut = fds[i].fd == out.read.get();
            ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
            if (r > 0)
                (isOut ? result.out : result.err).append(buf, static_cast<size_t>(r));
            else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                (isOut ? out.read : err.read).reset();
        }
    }
    in.write.reset();
    // Both pipes are closed; a child that closed them early still gets only the time left.
    if (!waitUntil(child, deadline)) {
        child.kill();
        child.wait();
        return fail(Code::TryAgainLater, "plugin " + req.pluginPath + " timed out after " +
                                             std::to_string(req.timeout.count()) +
                                             " ms and was killed");
    }
    result.waitStatus = child.wait();
    result.exitCode = WIFEXITED(result.waitStatus) ? WEXITSTATUS(result.waitStatus)
                                                   : 128 + WTERMSIG(result.waitStatus);
    return result;
}

Expected<ExecOutput> execPlugin(const ExecRequest& req) {
    auto raw = TRY(execPluginRaw(req));
    if (raw.exitCode != 0) return std::unexpected(pluginError(raw));
    return ExecOutput{std::move(raw.out), std::move(raw.err)};
}

Expected<Result> delegateAdd(std::string_view type, std::string_view stdinData,
                             std::string_view cniVersion) {
    auto out = TRY(delegate(type, "ADD", stdinData));
    TRY(checkJsonText(out.out, "decode result of delegated plugin " + std::string(type)));
    auto j = json::parse(out.out, nullptr, false);
    if (j.is_discarded())
        return fail(Code::DecodeFailure,
                    "decode result of delegated plugin " + std::string(type) + ": not JSON",
                    out.out.substr(0, 200));
    auto r = parseResult(j, cniVersion);
    if (!r) return std::unexpected(std::move(r).error().wrap("result of " + std::string(type)));
    return r;
}

Status delegateDel(std::string_view type, std::string_view stdinData) {
    TRY(delegate(type, "DEL", stdinData));
    return {};
}

Status delegateCheck(std::string_view type, std::string_view stdinData) {
    TRY(delegate(type, "CHECK", stdinData));
    return {};
}

Status delegateStatus(std::string_view type, std::string_view stdinData) {
    TRY(delegate(type, "STATUS", stdinData));
    return {};
}

Status delegateGc(std::string_view type, std::string_view stdinData) {
    TRY(delegate(type, "GC", stdinData));
    return {};
}

} // namespace tether::cni
