#include "tests/e2e/nat/tcp_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

namespace tether::test {

std::future<std::string> acceptOnce(const net::Netns& ns, int port, int timeoutMs, bool v6) {
    std::promise<std::string> ready; // resolves once listening
    auto listening = ready.get_future();
    auto result = std::async(
        std::launch::async, [&ns, port, timeoutMs, v6, ready = std::move(ready)]() mutable {
            net::NetnsGuard guard(ns);
            int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            sockaddr_storage ss{};
            socklen_t len;
            if (v6) {
                auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
                a->sin6_family = AF_INET6;
                a->sin6_port = htons(uint16_t(port));
                len = sizeof *a;
            } else {
                auto* a = reinterpret_cast<sockaddr_in*>(&ss);
                a->sin_family = AF_INET;
                a->sin_port = htons(uint16_t(port));
                len = sizeof *a;
            }
            bool ok = guard.ok() && ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
                      ::listen(fd, 4) == 0;
            ready.set_value(ok ? "listening" : "");
            std::string peer;
            pollfd p{fd, POLLIN, 0};
            if (ok && ::poll(&p, 1, timeoutMs) == 1) {
                sockaddr_storage from{};
                socklen_t flen = sizeof from;
                int c = ::accept4(fd, reinterpret_cast<sockaddr*>(&from), &flen, SOCK_CLOEXEC);
                if (c >= 0) {
                    char buf[INET6_ADDRSTRLEN]{};
                    if (from.ss_family == AF_INET)
                        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&from)->sin_addr, buf,
                                  sizeof buf);
                    else
                        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr, buf,
                                  sizeof buf);
                    peer = buf;
                    ::close(c);
                }
            }
            ::close(fd);
            return peer;
        });
    listening.wait();
    return result;
}

bool connectFrom(const net::Netns& ns, const std::string& ip, int port, int timeoutMs) {
    bool ok = false;
    std::thread t([&] {
        net::NetnsGuard guard(ns);
        if (!guard.ok()) return;
        bool v6 = ip.find(':') != std::string::npos;
        int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_storage ss{};
        socklen_t len;
        if (v6) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
            a->sin6_family = AF_INET6;
            a->sin6_port = htons(uint16_t(port));
            inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
            len = sizeof *a;
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&ss);
            a->sin_family = AF_INET;
            a->sin_port = htons(uint16_t(port));
            inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
            len = sizeof *a;
        }
        int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
        if (rc != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, timeoutMs) == 1) {
                int err = 0;
                socklen_t el = sizeof err;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
                rc = err == 0 ? 0 : -1;
            }
        }
        ok = rc == 0;
        ::close(fd);
    });
    t.join();
    return ok;
}

} // namespace tether::test
