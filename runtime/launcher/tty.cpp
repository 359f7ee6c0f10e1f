#include "runtime/launcher/tty.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "runtime/launcher/child.hpp"
#include "runtime/launcher/logs.hpp"

namespace tether::rt {
namespace {

Status sendFd(int sock, int fd) {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl;
    msg.msg_controllen = sizeof ctl;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) != 1) return failErrno("send the pty master", errno);
    return {};
}

bool writeAll(int fd, const char* data, size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, 100);
            continue;
        }
        if (w <= 0) return false;
        data += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

} // namespace

Status applyStdio(const StdioPlan& p, int syncFd) {
    if (p.tty) {
        UniqueFd m(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (!m) return failErrno("open the container's /dev/ptmx", errno);
        int unlock = 0;
        if (::ioctl(m.get(), TIOCSPTLCK, &unlock) != 0) return failErrno("unlock the pty", errno);
        if (p.size.ws_row && p.size.ws_col) (void)::ioctl(m.get(), TIOCSWINSZ, &p.size);
        UniqueFd s(::ioctl(m.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY));
        if (!s) return failErrno("open the pty slave", errno);
        if (::fchown(s.get(), p.uid, p.gid) != 0) return failErrno("chown the pty slave", errno);
        TRY(sendFd(syncFd, m.get()));
        m.reset(); // the launcher has it now
        if (::setsid() < 0) return failErrno("setsid", errno);
        if (::ioctl(s.get(), TIOCSCTTY, 0) != 0)
            return failErrno("make the pty the controlling tty", errno);
        for (int fd = 0; fd < 3; ++fd)
            if (::dup2(s.get(), fd) < 0) return failErrno("dup2 the pty slave", errno);
        if (s.get() <= 2) (void)s.release(); // it is one of 0-2 now
        return {};
    }
    if (p.nullStdin) {
        UniqueFd n(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (!n) return failErrno("open /dev/null", errno);
        if (n.get() == 0)
            (void)n.release(); // it is stdin
        else
            ::dup2(n.get(), 0);
    }
    if (p.outFd >= 0 && ::dup2(p.outFd, 1) < 0) return failErrno("dup2 stdout", errno);
    if (p.errFd >= 0 && ::dup2(p.errFd, 2) < 0) return failErrno("dup2 stderr", errno);
    // The originals are the launcher's fds inherited by this child (raw ints in the plan, owned
    // by the parent's UniqueFds): close this process's copies, so that nothing but 0-2 and the
    // sync socket stays.
    for (int fd : {p.outFd, p.errFd})
        if (fd > 2) ::close(fd);
    return {};
}

SyncOutcome readSync(int sock) {
    SyncOutcome out;
    for (;;) {
        char buf[4096];
        iovec iov{buf, sizeof buf};
        alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl;
        msg.msg_controllen = sizeof ctl;
        ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return out;
        if (n == 0) {
            out.gotEof = true;
            return out;
        }
        int fd = -1;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
        UniqueFd received(fd);
        if (received && n == 1 && buf[0] == 0) {
            out.masterFd = std::move(received);
            continue;
        }
        out.code = static_cast<unsigned char>(buf[0]);
        if (out.code == 0) out.code = 125;
        out.message.assign(buf + 1, static_cast<size_t>(n - 1));
        return out;
    }
}

RawTerminal::RawTerminal(bool enable) {
    termios t{};
    if (!enable || !::isatty(0) || ::tcgetattr(0, &t) != 0) return;
    saved_ = t;
    ::cfmakeraw(&t);
    ::tcsetattr(0, TCSADRAIN, &t);
}

RawTerminal::~RawTerminal() {
    if (saved_) ::tcsetattr(0, TCSADRAIN, &*saved_);
}

winsize callerWindowSize() {
    winsize w{};
    if (::ioctl(0, TIOCGWINSZ, &w) != 0 && ::ioctl(1, TIOCGWINSZ, &w) != 0) return winsize{};
    return w;
}

int superviseWithRelay(pid_t pid, const RelayPlan& plan) {
    sigset_t set = supervisedSignals();
    UniqueFd signals(::signalfd(-1, &set, SFD_CLOEXEC));
    if (!signals) return superviseChild(pid);
    int sfd = signals.get();
    struct sigaction ign {
    }, oldPipe{};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &oldPipe);
    int master = plan.master, outPipe = plan.outPipe, errPipe = plan.errPipe;
    bool stdinOpen = plan.forwardStdin && master >= 0;
    int exitCode = -1;
    auto emit = [&](const char* stream, const char* data, size_t n) {
        if (plan.log)
            plan.log->write(stream, data, n);
        else
            (void)writeAll(std::strcmp(stream, "stderr") == 0 ? 2 : 1, data, n);
    };
    // Reads what `fd` has; false at EOF/EIO (the fd is then no longer polled: set to -1; the
    // caller owns and closes it).
    auto pump = [&](int& fd, const char* stream) {
        char buf[16384];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
        if (n <= 0) {
            fd = -1;
            return false;
        }
        emit(stream, buf, static_cast<size_t>(n));
        return true;
    };
    while (exitCode < 0) {
        pollfd fds[5];
        nfds_t k = 0;
        fds[k++] = {sfd, POLLIN, 0};
        int iMaster = -1, iOut = -1, iErr = -1, iIn = -1;
        if (master >= 0) iMaster = static_cast<int>(k), fds[k++] = {master, POLLIN, 0};
        if (outPipe >= 0) iOut = static_cast<int>(k), fds[k++] = {outPipe, POLLIN, 0};
        if (errPipe >= 0) iErr = static_cast<int>(k), fds[k++] = {errPipe, POLLIN, 0};
        if (stdinOpen) iIn = static_cast<int>(k), fds[k++] = {0, POLLIN, 0};
        if (::poll(fds, k, -1) < 0) continue;
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo si{};
            if (::read(sfd, &si, sizeof si) == sizeof si) {
                int sig = static_cast<int>(si.ssi_signo);
                if (sig == SIGCHLD) {
                    int status = 0;
                    if (::waitpid(pid, &status, WNOHANG) == pid)
                        exitCode =
                            WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
                } else if (sig == SIGWINCH) {
                    if (master >= 0) {
                        winsize w = callerWindowSize();
                        if (w.ws_row && w.ws_col) (void)::ioctl(master, TIOCSWINSZ, &w);
                    }
                } else {
                    bool fromTty = si.ssi_code == SI_KERNEL && (sig == SIGINT || sig == SIGQUIT);
                    if (!fromTty) ::kill(pid, sig);
                }
            }
        }
        if (iMaster >= 0 && fds[iMaster].revents) pump(master, "stdout");
        if (iOut >= 0 && fds[iOut].revents) pump(outPipe, "stdout");
        if (iErr >= 0 && fds[iErr].revents) pump(errPipe, "stderr");
        if (iIn >= 0 && fds[iIn].revents) {
            char buf[4096];
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n > 0)
                (void)writeAll(master, buf, static_cast<size_t>(n));
            else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                stdinOpen = false;
        }
    }
    // Drain what the process wrote before it exited (without waiting for other holders).
    for (auto [fd, stream] :
         {std::pair{&master, "stdout"}, {&outPipe, "stdout"}, {&errPipe, "stderr"}}) {
        if (*fd < 0) continue;
        ::fcntl(*fd, F_SETFL, ::fcntl(*fd, F_GETFL) | O_NONBLOCK);
        for (int i = 0; i < 1024 && *fd >= 0; ++i) {
            pollfd p{*fd, POLLIN, 0};
            if (::poll(&p, 1, 0) <= 0) break;
            if (!pump(*fd, stream)) break;
        }
    }
    if (plan.log) plan.log->flush();
    ::sigaction(SIGPIPE, &oldPipe, nullptr);
    return exitCode;
}

} // namespace tether::rt
