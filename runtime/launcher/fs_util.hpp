// Small file utilities shared by the launcher: whole-file read/write with errors naming the path,
// mkdir -p, and numeric parsing of user sizes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.hpp"

namespace tether::rt {

/// The whole file. Errors: "read <path>: <strerror>" with errnum set.
Expected<std::string> readFile(const std::string& path);
/// open(O_WRONLY|O_CLOEXEC [|O_CREAT|O_TRUNC when create]), one write of `data`.
Status writeFile(const std::string& path, const std::string& data, bool create = false,
                 mode_t mode = 0600);
/// mkdir -p with `mode` for the directories it creates; existing directories are fine.
Status mkdirs(const std::string& path, mode_t mode = 0755);
/// Removes a directory tree without crossing mount points (lstat/openat, no symlink follow).
/// A missing path is success.
Status removeTree(const std::string& path);
/// "512m", "1g", "100k", "1048576" -> bytes; "-1" -> -1. nullopt when malformed.
std::optional<int64_t> parseBytes(const std::string& text);
/// True when `pid` exists, is not a zombie (state Z/X in /proc/<pid>/stat) and its start time
/// (field 22 of /proc/<pid>/stat) equals `startTime` (0 = do not check).
bool processAlive(pid_t pid, uint64_t startTime = 0);
/// Field 22 of /proc/<pid>/stat, or 0 when the process is gone.
uint64_t processStartTime(pid_t pid);

} // namespace tether::rt
