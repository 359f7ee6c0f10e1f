#include "plugins/dhcp/rpc.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.hpp"
#include "cni/json_limits.hpp"

namespace tether::dhcp {

using nlohmann::json;

std::string toHex(const std::vector<uint8_t>& b) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    for (uint8_t c : b) {
        s += kDigits[c >> 4];
        s += kDigits[c & 15];
    }
    return s;
}

std::optional<std::vector<uint8_t>> fromHex(const std::string& s) {
    if (s.size() % 2) return std::nullopt;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::vector<uint8_t> out;
    for (size_t i = 0; i < s.size(); i += 2) {
        int hi = nib(s[i]), lo = nib(s[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(uint8_t(hi << 4 | lo));
    }
    return out;
}

json toJson(const Request& r) {
    json provide = json::object();
    for (const auto& [code, value] : r.provide)
        provide[std::to_string(code)] = toHex(value);
    return {{"method", r.method},
            {"clientId", r.clientId},
            {"netns", r.netns},
            {"ifname", r.ifname},
            {"paramRequest", toHex(r.paramRequest)},
            {"provide", provide},
            {"timeoutMs", r.timeoutMs}};
}

Expected<Request> requestFromJson(const json& j) {
    auto bad = [](const char* key) {
        return fail(Code::DecodeFailure,
                    std::string("DHCP request: ") + key + " is missing or invalid");
    };
    if (!j.is_object()) return bad("the request");
    Request r;
    for (auto [key, out] : {std::pair{"method", &r.method}, std::pair{"clientId", &r.clientId},
                            std::pair{"netns", &r.netns}, std::pair{"ifname", &r.ifname}}) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_string()) return bad(key);
        *out = it->get<std::string>();
    }
    if (auto it = j.find("paramRequest"); it != j.end()) {
        if (!it->is_string()) return bad("paramRequest");
        auto bytes = fromHex(it->get<std::string>());
        if (!bytes) return bad("paramRequest");
        r.paramRequest = *bytes;
    }
    if (auto it = j.find("provide"); it != j.end()) {
        if (!it->is_object()) return bad("provide");
        for (const auto& [key, value] : it->items()) {
            char* end = nullptr;
            unsigned long code = std::strtoul(key.c_str(), &end, 10);
            if (key.empty() || *end || code > 254 || !value.is_string()) return bad("provide");
            auto bytes = fromHex(value.get<std::string>());
            if (!bytes || bytes->size() > 255) return bad("provide");
            r.provide[uint8_t(code)] = *bytes;
        }
    }
    if (auto it = j.find("timeoutMs"); it != j.end()) {
        if (!it->is_number_unsigned() || it->get<uint64_t>() > 3600'000) return bad("timeoutMs");
        r.timeoutMs = it->get<uint32_t>();
    }
    return r;
}

json errorReply(const Error& e) {
    return {{"error", {{"code", unsigned(e.code)}, {"msg", e.msg}, {"details", e.details}}}};
}

Error errorFromReply(const json& reply) {
    Error e{Code::Internal, "DHCP daemon sent a malformed reply", {}, 0};
    auto it = reply.find("error");
    if (it == reply.end() || !it->is_object()) return e;
    if (auto c = it->find("code"); c != it->end() && c->is_number_unsigned())
        e.code = Code(c->get<unsigned>());
    if (auto m = it->find("msg"); m != it->end() && m->is_string()) e.msg = m->get<std::string>();
    if (auto d = it->find("details"); d != it->end() && d->is_string())
        e.details = d->get<std::string>();
    return e;
}

namespace {

int64_t nowMs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// Waits for `events` on fd until `deadline`; false on timeout.
bool waitFor(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - nowMs();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, int(left));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return true; // let the next syscall report the error
    }
}

} // namespace

Expected<json> call(const std::string& socketPath, const json& request, int timeoutMs) {
    const std::string where = "DHCP daemon at " + socketPath;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socketPath.empty() || socketPath.size() >= sizeof(addr.sun_path))
        return fail(Code::InvalidConfig,
                    "ipam.daemonSocketPath \"" + socketPath + "\" is too long");
    std::memcpy(addr.sun_path, socketPath.data(), socketPath.size());
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return failErrno("socket for " + where, errno);
    const int64_t deadline = nowMs() + timeoutMs;
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        if (errno != EINPROGRESS && errno != EAGAIN)
            return std::unexpected(Error{Code::TryAgainLater,
                                         "DHCP daemon not running: connect " + socketPath + ": " +
                                             std::strerror(errno),
                                         "start it with `dhcp daemon`", errno});
        if (!waitFor(fd.get(), POLLOUT, deadline))
            return fail(Code::TryAgainLater, "connect to " + where + ": timed out");
    }
    const std::string out = request.dump();
    size_t sent = 0;
    while (sent < out.size()) {
        ssize_t n = ::send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += size_t(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!waitFor(fd.get(), POLLOUT, deadline))
                return fail(Code::TryAgainLater, "send to " + where + ": timed out");
        } else {
            return failErrno("send to " + where, errno);
        }
    }
    ::shutdown(fd.get(), SHUT_WR);
    std::string in;
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
        if (n > 0) {
            in.append(buf, size_t(n));
            if (in.size() > kMaxMessage) return fail(Code::Internal, where + ": reply too large");
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (!waitFor(fd.get(), POLLIN, deadline))
                return fail(Code::TryAgainLater,
                            where + ": no reply within " + std::to_string(timeoutMs) + " ms");
        } else {
            return failErrno("read reply from " + where, errno);
        }
    }
    if (in.empty())
        return fail(Code::Internal, where + " closed the connection without a reply",
                    "see the daemon's log");
    auto reply = cni::parseJsonChecked(in, "reply of " + where, Code::Internal);
    if (!reply || !reply->is_object()) return fail(Code::Internal, where + ": malformed reply");
    return *reply;
}

} // namespace tether::dhcp
