#include "tests/support/run_dir.hpp"

#include <sched.h>
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace tether::test {

void isolateRunDir() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (unshare(CLONE_NEWNS) != 0) FAIL("unshare(CLONE_NEWNS): " << std::strerror(errno));
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            FAIL("make / private: " << std::strerror(errno));
        if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
            FAIL("mount tmpfs on /run: " << std::strerror(errno));
    });
}

} // namespace tether::test
