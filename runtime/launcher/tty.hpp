// Terminals and output of containers: the pty made inside the container's devpts (-t), the
// stdio a container gets (/dev/null stdin without -i, log pipes when detached), and the relay
// loop the launcher runs while it supervises PID 1 or an exec'd process.
#pragma once

#include <sys/ioctl.h>
#include <sys/types.h>
#include <termios.h>

#include <optional>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace tether::rt {

class LogWriter;

/// How the process's fds 0, 1 and 2 are set up just before exec (in the container).
struct StdioPlan {
    bool tty = false;       ///< a pty from the container's /dev/ptmx; master sent to the launcher
    bool nullStdin = false; ///< fd 0 = /dev/null (no -i)
    int outFd = -1, errFd = -1; ///< dup2'd onto 1 and 2 when >= 0 (detached: log pipes)
    winsize size{};             ///< initial window size of the pty (0x0: leave the default)
    uid_t uid = 0;              ///< the slave's owner
    gid_t gid = 0;
};

/// In the container process after its mounts: applies `plan`. With a tty: opens /dev/ptmx (the
/// container's devpts instance), sets the window size, setsid + TIOCSCTTY on the slave (so it is
/// the controlling terminal, /dev/pts/N inside the container), slave on 0/1/2, and sends the
/// master to the launcher over `syncFd` as SCM_RIGHTS in a one-byte packet "\0"; the master is
/// closed in the container. Errors name the step.
Status applyStdio(const StdioPlan& plan, int syncFd);

/// The launcher's side of the sync socket after the release: reads packets until EOF (exec
/// succeeded: returns nullopt error and keeps `masterFd` if one came) or an error packet
/// "<code><text>" (returns code and text). EINTR is retried.
struct SyncOutcome {
    UniqueFd masterFd;   ///< the pty master sent by applyStdio (empty when none came)
    int code = 0;        ///< 0: exec'd; else the exit code the child reported
    std::string message; ///< the child's error text when code != 0
    bool gotEof = false; ///< the socket closed (false: recv failed)
};
SyncOutcome readSync(int sock);

/// Puts the caller's terminal (fd 0) in raw mode for the object's lifetime when it is a tty;
/// restores the saved settings in the destructor (every return path, exceptions included).
class RawTerminal {
  public:
    explicit RawTerminal(bool enable);
    ~RawTerminal();
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

  private:
    std::optional<termios> saved_;
};

/// The caller's window size (stdin, else stdout), or 0x0 when neither is a terminal.
winsize callerWindowSize();

/// What the relay moves while it supervises `pid`.
/// The fds are borrowed: the caller owns (and closes) them.
struct RelayPlan {
    int master = -1;           ///< pty master: output to stdout or the log, input from stdin
    int outPipe = -1;          ///< detached without tty: the container's stdout pipe
    int errPipe = -1;          ///< and stderr
    bool forwardStdin = false; ///< copy our stdin into the master (-i with -t)
    LogWriter* log = nullptr;  ///< output goes here instead of our stdout
};

/// superviseChild() with I/O: waits for `pid` (supervisedSignals() must be blocked), forwards
/// signals (SIGWINCH: the caller's window size to the master), moves bytes per `plan`, drains
/// the output after the exit. Returns the exit code (128+signal when killed).
int superviseWithRelay(pid_t pid, const RelayPlan& plan);

} // namespace tether::rt
