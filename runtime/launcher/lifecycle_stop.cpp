// `stop`, `wait` and `start` (lifecycle.hpp).
#include <signal.h>
#include <string.h>

#include <chrono>
#include <thread>

#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/container.hpp"
#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/lifecycle.hpp"
#include "runtime/launcher/state.hpp"

namespace tether::rt {
namespace {

using Clock = std::chrono::steady_clock;

bool active(ContainerStatus status) {
    return isUp(status) || status == ContainerStatus::Creating;
}

/// Polls until the container's exit is recorded (state exited, or removed with --rm / a
/// foreground run) or `deadline`. Returns the last state read (nullopt when removed).
std::optional<ContainerState> waitRecorded(const LauncherPaths& paths, const std::string& id,
                                           std::optional<Clock::time_point> deadline) {
    for (;;) {
        auto st = readState(paths, id);
        if (!st) return std::nullopt;
        ContainerStatus s = liveStatus(*st);
        // A PID 1 that died is "exited" at once (a zombie is not running), but its supervisor
        // may not have reaped it and torn down yet: wait for the record as well, else a
        // `restart` finds the old cgroup still there.
        bool recording =
            (st->status == ContainerStatus::Running || st->status == ContainerStatus::Creating) &&
            st->supervisorAlive();
        if (!active(s) && !recording) return *st;
        if (deadline && Clock::now() >= *deadline) return *st;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

} // namespace

Expected<std::string> stopContainer(const LauncherPaths& paths, const std::string& id,
                                    int timeout) {
    auto st = TRY(readState(paths, id));
    ContainerStatus status = liveStatus(st);
    if (!active(status)) return std::string();
    RunOptions cfg = st.config.value_or(RunOptions{});
    int sig = cfg.stopSignal;
    if (timeout < 0) timeout = cfg.stopTimeout;
    Cgroup cg = st.cgroup.value_or(Cgroup());
    if (status == ContainerStatus::Paused) (void)cg.setFrozen(false);
    auto start = Clock::now();
    if (st.process && st.process->alive()) ::kill(st.pid(), sig);
    auto after = waitRecorded(paths, id, start + std::chrono::seconds(timeout));
    std::string what;
    if (after && active(liveStatus(*after))) {
        (void)cg.killAll();
        what = std::string("did not exit within ") + std::to_string(timeout) + " s of SIG" +
               (sigabbrev_np(sig) ? sigabbrev_np(sig) : std::to_string(sig).c_str()) +
               ": killed with SIGKILL";
        after = waitRecorded(paths, id, Clock::now() + std::chrono::seconds(10));
        if (after && active(liveStatus(*after)))
            return fail(Code::Internal, "container " + id + " is still running after SIGKILL");
    }
    return what;
}

Expected<int> waitContainer(const LauncherPaths& paths, const std::string& id) {
    TRY(readState(paths, id));
    auto st = waitRecorded(paths, id, std::nullopt);
    if (!st)
        return fail(Code::UnknownContainer,
                    "container " + id + " was removed when it exited (--rm or foreground)");
    ContainerStatus s = liveStatus(*st);
    if (s == ContainerStatus::Created)
        return fail(Code::InvalidConfig, "container " + id + " was never started");
    if (s == ContainerStatus::Dead)
        return fail(Code::Internal,
                    "the supervisor of container " + id + " died: its exit code was not recorded");
    return st->exitCode.value_or(0);
}

Status startContainer(const LauncherPaths& paths, const std::string& id) {
    int code = TRY(rerunContainer(paths, id));
    if (code != 0) return fail(Code::Internal, "container " + id + " did not start");
    return {};
}

} // namespace tether::rt
