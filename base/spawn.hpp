#pragma once
// Starting a child program the way every exec of ours does: stdio from the given fds, every other
// fd closed, a clean signal mask and SIGPIPE at its default, whatever the caller has set.

#include <spawn.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "base/error.hpp"

namespace tether {

/// posix_spawn of `path` with `argv`/`envp` (NULL-terminated) and stdin/stdout/stderr from
/// `in`/`out`/`err`. A binary being replaced (ETXTBSY) is retried a few times. Errors are code 999
/// "exec <path>: <strerror>".
inline Expected<pid_t> spawnWithStdio(const std::string& path, char* const argv[],
                                      char* const envp[], int in, int out, int err) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, in, 0);
    posix_spawn_file_actions_adddup2(&fa, out, 1);
    posix_spawn_file_actions_adddup2(&fa, err, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int rc = 0;
    for (int attempt = 0; attempt < 5; ++attempt) {
        rc = posix_spawn(&pid, path.c_str(), &fa, &attr, argv, envp);
        if (rc != ETXTBSY) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20 << attempt));
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return failErrno("exec " + path, rc, Code::Internal);
    return pid;
}

} // namespace tether
