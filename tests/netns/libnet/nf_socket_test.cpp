// The shared netfilter socket and its holder: one socket per process and netns, a private one in
// another netns, and after hand-off a holder (named by its abstract socket) that keeps the
// socket and exits by itself once idle.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <catch2/catch.hpp>

#include "libnet/nf_socket.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;

namespace {

bool holderRunning() {
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const char name[] = "tether/helper-v2";
    std::memcpy(addr.sun_path + 1, name, sizeof(name) - 1);
    socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + sizeof(name));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    ::close(fd);
    return ok;
}

// The socket's inode: unique among live sockets and not reused soon after a close.
ino_t identity(const net::NfSocketLease& l) {
    struct stat st {};
    REQUIRE(::fstat(mnl_socket_get_fd(l.get()), &st) == 0);
    return st.st_ino;
}

} // namespace

TEST_CASE("one netfilter socket per process and netns, handed to the helper that exits when idle",
          "[libnet][nft]") {
    // Earlier tests in this process may have opened the shared socket in their netns: hand it
    // off here (to a holder in the process's own netns) so this test starts without one.
    net::handOffNetfilterSocket();
    test::ScratchNetns ns;
    ns.run([&] {
        ino_t first = 0;
        {
            auto a = net::leaseNetfilterSocket("test");
            REQUIRE(a);
            first = identity(*a);
        }
        {
            auto b = net::leaseNetfilterSocket("test");
            REQUIRE(b);
            CHECK(identity(*b) == first); // the same socket again
        }
        // From a thread in another netns: a private socket, not the shared one.
        test::ScratchNetns other;
        ino_t otherSock = 0;
        other.run([&] {
            auto c = net::leaseNetfilterSocket("test");
            REQUIRE(c);
            otherSock = identity(*c);
        });
        CHECK(otherSock != first);

        CHECK_FALSE(holderRunning());
        net::handOffNetfilterSocket();
        CHECK(holderRunning());
        // A new lease opens a new shared socket.
        {
            auto d = net::leaseNetfilterSocket("test");
            REQUIRE(d);
            CHECK(identity(*d) != first);
        }

        // Idle for its timeout (300 ms), the holder closes what it holds and goes away.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (holderRunning() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK_FALSE(holderRunning());
    });
}
