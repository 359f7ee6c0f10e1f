// The dhcp daemon's socket as an attacker sees it: who may connect, and what hostile requests
// (oversized, deeply nested, malformed, a namespace that is not a network namespace, clients
// that stall to exhaust the daemon) get — a clear error reply each, while the daemon keeps
// serving everyone else.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/unique_fd.hpp"
#include "tests/e2e/dhcp/dhcp_env.hpp"

using namespace tether::test;
using nlohmann::json;
using tether::UniqueFd;

namespace {

/// A connected client socket, or an invalid fd (errno set).
UniqueFd connectTo(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return {};
    return fd;
}

/// Sends `bytes` as one request (then shuts the write side, as the plugin does) and returns the
/// daemon's reply parsed (null when it sent none or nothing parseable).
json askDaemon(const std::string& path, const std::string& bytes) {
    UniqueFd fd = connectTo(path);
    REQUIRE(fd);
    size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break; // the daemon may stop reading an oversized request
        sent += size_t(n);
    }
    ::shutdown(fd.get(), SHUT_WR);
    std::string reply;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0;)
        reply.append(buf, size_t(n));
    return json::parse(reply, nullptr, false);
}

bool servesStatus(const std::string& path) {
    json r = askDaemon(path, R"({"method":"status","clientId":"probe","netns":"","ifname":"x"})");
    return r.is_object() && r.value("ok", false);
}

} // namespace

TEST_CASE("dhcp daemon: only root may talk to its socket", "[dhcp][attack]") {
    DhcpEnv env("tdha0");
    struct stat st {};
    REQUIRE(::stat(env.socketPath().c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0077) == 0);
    CHECK(st.st_uid == 0);
    // An unprivileged process (nobody) cannot connect.
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
        UniqueFd fd = connectTo(env.socketPath());
        ::_exit(fd ? 0 : (errno == EACCES ? 1 : 3));
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1); // EACCES
    CHECK(servesStatus(env.socketPath()));
}

TEST_CASE("dhcp daemon: hostile requests get an error reply, the daemon keeps serving",
          "[dhcp][attack]") {
    DhcpEnv env("tdha1");
    const std::string sock = env.socketPath();
    struct Case {
        std::string what;
        std::string bytes;
        std::string inMessage;
    };
    std::vector<Case> cases = {
        {"2 MB of garbage", std::string(2 << 20, 'a'), "larger than"},
        {"nesting 100,000 deep", std::string(100000, '[') + std::string(100000, ']'), ""},
        {"not JSON", "{\"method\":", ""},
        {"no method", R"({"clientId":"c","netns":"/x","ifname":"eth0"})", "method"},
        {"a number for netns", R"({"method":"add","clientId":"c","netns":7,"ifname":"eth0"})",
         "netns"},
        {"a mount namespace",
         R"({"method":"add","clientId":"c","netns":"/proc/self/ns/mnt","ifname":"eth0"})", ""},
        {"a regular file as netns",
         R"({"method":"add","clientId":"c","netns":"/etc/passwd","ifname":"eth0"})", ""},
        {"an unknown method",
         R"({"method":"shutdown","clientId":"c","netns":"/x","ifname":"eth0"})", "unknown"},
        {"provide out of range",
         R"({"method":"add","clientId":"c","netns":"/x","ifname":"e","provide":{"300":"00"}})",
         "provide"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        json r = askDaemon(sock, c.bytes);
        REQUIRE(r.is_object());
        REQUIRE(r.contains("error"));
        CHECK(r["error"]["code"].get<unsigned>() != 0);
        CHECK(!r["error"]["msg"].get<std::string>().empty());
        if (!c.inMessage.empty())
            CHECK(r["error"]["msg"].get<std::string>().find(c.inMessage) != std::string::npos);
        CHECK(servesStatus(sock));
    }
    CHECK(env.daemonLog().find("listening") != std::string::npos);
}

TEST_CASE("dhcp daemon: stalled clients cannot lock everyone out for long", "[dhcp][attack]") {
    DhcpEnv env("tdha2");
    const std::string sock = env.socketPath();
    // 64 clients connect and send nothing: every request slot is taken.
    std::vector<UniqueFd> stalled;
    for (int i = 0; i < 64; ++i) {
        stalled.push_back(connectTo(sock));
        REQUIRE(stalled.back());
    }
    ::usleep(300 * 1000); // the daemon has accepted them all
    json busy = askDaemon(sock, R"({"method":"status","clientId":"p","netns":"","ifname":"x"})");
    REQUIRE(busy.is_object());
    CHECK(busy["error"]["code"] == 11); // try again later, at once rather than a hang
    // Each stalled request times out (5 s): then the daemon answers again.
    bool back = false;
    for (int i = 0; i < 40 && !back; ++i) {
        ::usleep(250 * 1000);
        back = servesStatus(sock);
    }
    CHECK(back);
}
