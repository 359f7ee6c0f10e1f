// Reading a file that someone else may have planted: never blocks on a FIFO or device, never
// reads more than asked, and says what is wrong with the path.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace tether {

struct ReadFileOptions {
    size_t maxBytes = 1 << 20;  ///< larger files are an error (never truncated silently)
    bool followSymlinks = true; ///< false: a symlink at the last component is an error (ELOOP)
    bool missingOk = false;     ///< true: a missing file is std::nullopt instead of an error
    Code code = Code::IoFailure;
};

/// The whole content of the regular file at `path`. Opened with O_NONBLOCK|O_NOCTTY, so a FIFO or
/// a device in its place cannot block or grow memory; anything but a regular file is an error
/// "<what> <path>: not a regular file (a FIFO|a directory|a device|...)"; a file over maxBytes is
/// "<what> <path>: larger than N bytes". Other failures carry errno: "<what> <path>: <strerror>".
Expected<std::optional<std::string>> readRegularFile(const std::string& path, std::string_view what,
                                                     const ReadFileOptions& opts = {});

/// Same, relative to the directory fd `dirfd` (openat semantics).
Expected<std::optional<std::string>> readRegularFileAt(int dirfd, const std::string& path,
                                                       std::string_view what,
                                                       const ReadFileOptions& opts = {});

} // namespace tether
