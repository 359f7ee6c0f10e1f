// `run -it` and `exec -it` driven through a real pty, as a person at a terminal: keystrokes in,
// screen output checked, window size at start and after a resize, Ctrl-C and Ctrl-D going to the
// container's terminal, and the caller's terminal settings restored afterwards.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <catch2/catch.hpp>

#include "launcher_env.hpp"

using tether::test::LauncherEnv;

namespace {

/// `tether ARGS` on the slave side of a fresh pty (its controlling terminal); the test holds the
/// master as a person's terminal emulator would.
struct Terminal {
    int master = -1;
    pid_t pid = -1;
    std::string screen; ///< everything read so far

    Terminal(const std::vector<std::string>& argv, unsigned short rows, unsigned short cols) {
        winsize ws{rows, cols, 0, 0};
        pid = ::forkpty(&master, nullptr, nullptr, &ws);
        if (pid == 0) {
            std::vector<char*> a;
            for (const auto& s : argv)
                a.push_back(const_cast<char*>(s.c_str()));
            a.push_back(nullptr);
            ::execvp(a[0], a.data());
            ::_exit(127);
        }
    }
    ~Terminal() {
        if (pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (master >= 0) ::close(master);
    }
    void type(const std::string& keys) const {
        REQUIRE(::write(master, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
    }
    /// Reads until `text` appears after position `from` (true) or `ms` pass (false).
    bool waitFor(const std::string& text, size_t from = 0, int ms = 5000) {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (screen.find(text, from) == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            end - std::chrono::steady_clock::now())
                            .count();
            if (left <= 0) return false;
            pollfd p{master, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            char buf[4096];
            ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0) return screen.find(text, from) != std::string::npos;
            screen.append(buf, static_cast<size_t>(n));
        }
        return true;
    }
    /// Waits up to 20 s for the launcher's exit, draining the screen meanwhile (a full pty
    /// would block it). Time-bounded, not count-bounded: once every slave fd is closed, poll
    /// returns at once (POLLHUP) and a counted loop would give up within milliseconds.
    int wait() {
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < end) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            char buf[4096];
            pollfd p{master, POLLIN, 0};
            if (::poll(&p, 1, 10) > 0 && ::read(master, buf, sizeof buf) > 0) continue;
            ::usleep(10 * 1000);
        }
        return -1;
    }
};

bool sameTermios(const termios& a, const termios& b) {
    return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
           a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

} // namespace

TEST_CASE("tty: run -it -- sh is an interactive shell on /dev/pts/0", "[launcher][tty]") {
    LauncherEnv env;
    Terminal t(env.tetherArgv({"run", "--net", "none", "-it", "--", "sh"}), 33, 101);
    REQUIRE(t.pid > 0);
    termios before{};
    REQUIRE(::tcgetattr(t.master, &before) == 0);
    REQUIRE(t.waitFor("/ # "));
    termios during{};
    ::tcgetattr(t.master, &during);
    CHECK((during.c_lflag & ICANON) == 0); // the caller's terminal is raw while the shell runs
    size_t at = t.screen.size();
    t.type("echo $((6*7))\n");
    CHECK(t.waitFor("\n42\r\n", at));
    at = t.screen.size();
    t.type("tty; stty size\n");
    CHECK(t.waitFor("/dev/pts/0\r\n33 101\r\n", at));
    // A resize of the caller's terminal reaches the container's (SIGWINCH to the launcher).
    winsize ws{40, 120, 0, 0};
    REQUIRE(::ioctl(t.master, TIOCSWINSZ, &ws) == 0);
    ::usleep(200 * 1000);
    at = t.screen.size();
    t.type("stty size\n");
    CHECK(t.waitFor("40 120\r\n", at));
    // Ctrl-C interrupts the foreground command in the container, not the launcher. "g1o" is
    // output (the echoed line reads "g$((1))o"), printed just before the sleep starts; a ^C that
    // lands before the sleep is the foreground job is pressed again, as a person would.
    at = t.screen.size();
    t.type("echo g$((1))o; sleep 30\n");
    REQUIRE(t.waitFor("g1o\r\n", at));
    bool prompt = false;
    for (int press = 0; press < 4 && !prompt; ++press) {
        ::usleep(200 * 1000);
        at = t.screen.size();
        t.type("\x03");
        prompt = t.waitFor("/ # ", at, 2000); // only the shell prints its prompt
    }
    CHECK(prompt);
    CHECK(::waitpid(t.pid, nullptr, WNOHANG) == 0); // the launcher is still there
    // The shell answers at once: the sleep of 30 s is gone.
    at = t.screen.size();
    t.type("echo still-$((1+1))\n");
    CHECK(t.waitFor("still-2\r\n", at));
    // Ctrl-D ends the shell: exit status 0, terminal settings as before.
    t.type("\x04");
    CHECK(t.wait() == 0);
    INFO(t.screen);
    termios after{};
    REQUIRE(::tcgetattr(t.master, &after) == 0);
    CHECK(sameTermios(before, after));
    CHECK(env.leftovers().empty());
}

TEST_CASE("tty: exit code through the pty, exec -it into a running container", "[launcher][tty]") {
    LauncherEnv env;
    {
        Terminal t(env.tetherArgv({"run", "--net", "none", "-it", "--", "sh", "-c", "tty; exit 7"}),
                   24, 80);
        CHECK(t.waitFor("/dev/pts/0"));
        CHECK(t.wait() == 7);
    }
    REQUIRE(env.runNone({"-d", "--name", "box", "--", "sleep", "100"}).exitCode == 0);
    Terminal t(env.tetherArgv({"exec", "-it", "box", "sh"}), 24, 80);
    REQUIRE(t.waitFor("/ # "));
    size_t at = t.screen.size();
    t.type("tty; echo $((2+3)); exit 4\n");
    CHECK(t.waitFor("/dev/pts/0\r\n5\r\n", at));
    CHECK(t.wait() == 4);
    // Without -t there is no terminal, and without -i stdin is /dev/null.
    auto plain = env.tether({"exec", "box", "sh", "-c", "tty; cat; echo done"});
    CHECK(plain.out == "not a tty\ndone\n");
    REQUIRE(env.tether({"rm", "-f", "box"}).exitCode == 0);
    CHECK(env.leftovers().empty());
}

TEST_CASE("tty: a detached -t container's terminal output is in its logs", "[launcher][tty]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-dt", "--name", "dt", "--", "sh", "-c", "tty; echo hello; sleep 100"})
                .exitCode == 0);
    CHECK(tether::test::eventually([&] {
        return env.tether({"logs", "dt"}).out == "/dev/pts/0\nhello\n";
    }));
    REQUIRE(env.tether({"rm", "-f", "dt"}).exitCode == 0);
}
