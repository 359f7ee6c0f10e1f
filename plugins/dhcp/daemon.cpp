#include "plugins/dhcp/daemon.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "base/unique_fd.hpp"
#include "cni/json_limits.hpp"
#include "plugins/dhcp/lease.hpp"
#include "plugins/dhcp/rpc.hpp"

namespace tether::dhcp {

using nlohmann::json;

namespace {

constexpr int kMaxClients = 64;
constexpr int kReadTimeoutMs = 5000;

class Daemon {
  public:
    explicit Daemon(DaemonOptions o) : opts_(std::move(o)) {}
    json handle(const Request& r);
    void serve(UniqueFd conn);
    std::atomic<int> active{0};

  private:
    Expected<json> add(const Request& r);
    Status del(const Request& r);
    Expected<json> check(const Request& r);
    std::shared_ptr<Lease> take(const std::string& id);

    DaemonOptions opts_;
    std::mutex mu_;
    std::map<std::string, std::shared_ptr<Lease>> leases_;
};

std::shared_ptr<Lease> Daemon::take(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = leases_.find(id);
    if (it == leases_.end()) return nullptr;
    auto l = std::move(it->second);
    leases_.erase(it);
    return l;
}

Expected<json> Daemon::add(const Request& r) {
    // A second ADD for the same attachment replaces the first lease (as the reference).
    if (auto old = take(r.clientId)) old->release();
    LeaseParams p{.clientId = r.clientId,
                  .netns = opts_.hostPrefix + r.netns,
                  .ifname = r.ifname,
                  .paramRequest = r.paramRequest,
                  .provide = r.provide,
                  .broadcast = opts_.broadcast,
                  .timeoutMs = r.timeoutMs ? int(r.timeoutMs) : opts_.timeoutMs,
                  .resendMaxMs = opts_.resendMaxMs};
    std::shared_ptr<Lease> lease = TRY(Lease::acquire(p));
    auto result = TRY(cni::toJson(resultOf(lease->state().ack), "1.1.0"));
    std::shared_ptr<Lease> displaced;
    {
        std::lock_guard lock(mu_);
        auto& slot = leases_[r.clientId];
        displaced = std::move(slot);
        slot = lease;
    }
    if (displaced) displaced->release();
    return json{{"result", result}};
}

Status Daemon::del(const Request& r) {
    if (auto lease = take(r.clientId)) lease->release();
    return {};
}

Expected<json> Daemon::check(const Request& r) {
    std::shared_ptr<Lease> lease;
    {
        std::lock_guard lock(mu_);
        if (auto it = leases_.find(r.clientId); it != leases_.end()) lease = it->second;
    }
    if (!lease)
        return fail(Code::Internal, "dhcp: no lease held for " + r.clientId,
                    "the daemon has no record of this attachment (restarted?)");
    if (!lease->alive())
        return fail(Code::Internal, "dhcp: the lease of " + r.clientId + " on " + r.ifname +
                                        " was lost (NAK or expired)");
    auto result = TRY(cni::toJson(resultOf(lease->state().ack), "1.1.0"));
    return json{{"result", result}};
}

json Daemon::handle(const Request& r) {
    Expected<json> out = fail(Code::Internal, "dhcp daemon: unknown method \"" + r.method + "\"");
    if (r.method == "add")
        out = add(r);
    else if (r.method == "check")
        out = check(r);
    else if (r.method == "status")
        out = json{{"ok", true}};
    else if (r.method == "del") {
        auto st = del(r);
        out = st ? Expected<json>(json{{"ok", true}}) : std::unexpected(st.error());
    }
    if (!out) {
        std::fprintf(stderr, "dhcp: %s %s: %s\n", r.method.c_str(), r.clientId.c_str(),
                     out.error().msg.c_str());
        return errorReply(out.error());
    }
    return *out;
}

// Reads one request (until the peer shuts its write side down), bounded in size and time.
Expected<std::string> readRequest(int fd) {
    std::string in;
    char buf[4096];
    const int64_t deadline = monotonicMs() + kReadTimeoutMs;
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            in.append(buf, size_t(n));
            if (in.size() > kMaxMessage)
                return fail(Code::DecodeFailure,
                            "request larger than " + std::to_string(kMaxMessage) + " bytes");
            continue;
        }
        if (n == 0) return in;
        if (errno != EAGAIN && errno != EINTR) return failErrno("read request", errno);
        const int64_t left = deadline - monotonicMs();
        if (left <= 0) return fail(Code::DecodeFailure, "request not complete within 5 s");
        pollfd p{fd, POLLIN, 0};
        (void)::poll(&p, 1, int(left));
    }
}

void Daemon::serve(UniqueFd conn) {
    json reply;
    auto text = readRequest(conn.get());
    if (!text) {
        reply = errorReply(text.error());
    } else if (auto j = cni::parseJsonChecked(*text, "DHCP request"); !j) {
        reply = errorReply(j.error());
    } else if (auto req = requestFromJson(*j); !req) {
        reply = errorReply(req.error());
    } else {
        reply = handle(*req);
    }
    const std::string out = reply.dump();
    size_t sent = 0;
    while (sent < out.size()) {
        ssize_t n = ::send(conn.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0 && errno == EINTR) continue;
        if (n <= 0) break; // the plugin went away (timed out): nothing to tell
        sent += size_t(n);
    }
}

// True when a daemon answers on `path`.
bool someoneListens(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

Expected<UniqueFd> listenOn(const std::string& path) {
    std::error_code ec;
    const auto dir = std::filesystem::path(path).parent_path();
    std::filesystem::create_directories(dir, ec);
    if (ec) return failErrno("create " + dir.string(), ec.value(), Code::IoFailure);
    if (someoneListens(path))
        return fail(Code::Conflict, "another DHCP daemon is listening on " + path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return failErrno("remove stale socket " + path, errno, Code::IoFailure);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return failErrno("socket", errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    const mode_t old = ::umask(0077); // only root (the runtime) may talk to the daemon
    const int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::umask(old);
    if (rc != 0) return failErrno("bind " + path, errno, Code::IoFailure);
    if (::listen(fd.get(), 128) != 0) return failErrno("listen on " + path, errno);
    return fd;
}

} // namespace

Status runDaemon(const DaemonOptions& opts) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    // Blocked before any thread starts, so every thread inherits the mask and the signalfd
    // alone sees them.
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC));
    if (!sfd) return failErrno("signalfd", errno);
    auto listener = TRY(listenOn(opts.socketPath));
    std::fprintf(stderr, "dhcp daemon: listening on %s\n", opts.socketPath.c_str());
    auto daemon = std::make_shared<Daemon>(opts);
    for (;;) {
        pollfd p[2] = {{listener.get(), POLLIN, 0}, {sfd.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return failErrno("poll", errno);
        }
        if (p[1].revents) break;
        if (!(p[0].revents & POLLIN)) continue;
        UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) continue;
        if (daemon->active.load() >= kMaxClients) {
            const std::string busy =
                errorReply(Error{Code::TryAgainLater,
                                 "DHCP daemon busy (" + std::to_string(kMaxClients) +
                                     " requests in progress)",
                                 {},
                                 0})
                    .dump();
            (void)::send(conn.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            continue;
        }
        ++daemon->active;
        std::thread([daemon, c = std::move(conn)]() mutable {
            daemon->serve(std::move(c));
            --daemon->active;
        }).detach();
    }
    std::fprintf(stderr, "dhcp daemon: exiting\n");
    ::unlink(opts.socketPath.c_str());
    // Leases are left to run out; in-flight requests die with the process.
    std::fflush(stderr);
    ::_exit(0);
}

} // namespace tether::dhcp
