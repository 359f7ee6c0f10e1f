#include "tests/e2e/bandwidth/tcp_rate.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace tether::test {

double measureTcpRate(ScratchNetns& from, ScratchNetns& to, const std::string& toAddr,
                      double seconds, double warmupSeconds) {
    using Clock = std::chrono::steady_clock;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(5201);
    REQUIRE(inet_pton(AF_INET, toAddr.c_str(), &addr.sin_addr) == 1);
    int lfd = to.run([] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
    REQUIRE(lfd >= 0);
    int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(lfd, 1) == 0);
    int cfd = from.run([] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
    REQUIRE(cfd >= 0);
    REQUIRE(::connect(cfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    int afd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(afd >= 0);
    ::close(lfd);

    timeval stv{.tv_sec = 0, .tv_usec = 200000};
    ::setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &stv, sizeof(stv));
    std::atomic<bool> stop{false};
    std::thread sender([&] {
        std::vector<char> buf(64 * 1024, 'x');
        while (!stop.load()) {
            if (::send(cfd, buf.data(), buf.size(), MSG_NOSIGNAL) < 0 && errno != EAGAIN) break;
        }
        ::shutdown(cfd, SHUT_WR);
    });
    std::vector<char> buf(256 * 1024);
    const auto start = Clock::now();
    const auto warm = start + std::chrono::duration<double>(warmupSeconds);
    const auto end = start + std::chrono::duration<double>(seconds);
    uint64_t counted = 0;
    Clock::time_point first{};
    Clock::time_point last{};
    timeval tv{.tv_sec = 0, .tv_usec = 200000};
    ::setsockopt(afd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (Clock::now() < end) {
        ssize_t n = ::recv(afd, buf.data(), buf.size(), 0);
        if (n <= 0) continue;
        auto now = Clock::now();
        if (now < warm) continue;
        if (first == Clock::time_point{}) {
            first = now; // bytes up to here belong to the warm-up
            continue;
        }
        counted += uint64_t(n);
        last = now;
    }
    stop = true;
    ::close(afd); // unblocks a sender waiting for window
    sender.join();
    ::close(cfd);
    double elapsed = std::chrono::duration<double>(last - first).count();
    REQUIRE(elapsed > 0);
    return double(counted) * 8.0 / elapsed;
}

double measureShapedRate(ScratchNetns& from, ScratchNetns& to, const std::string& toAddr,
                         double targetBits, double seconds) {
    double best = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
        double rate = measureTcpRate(from, to, toAddr, seconds);
        INFO("attempt " << attempt << ": " << rate / 1e6 << " Mbit/s, target " << targetBits / 1e6);
        CHECK(rate <= targetBits * 1.10);
        best = std::max(best, rate);
        if (best >= targetBits * 0.90) break;
    }
    return best;
}

} // namespace tether::test
