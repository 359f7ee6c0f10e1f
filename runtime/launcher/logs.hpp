// A detached container's output: <state dir>/container.log in the CRI line format
// ("<RFC 3339 nano time> <stdout|stderr> <F|P> <text>"; P = a partial line continued by the next
// record), rotated to container.log.1 when it would exceed the size cap, and `tether logs`.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {

/// Appends records to a log file with a size cap: when the next record would make the file
/// larger than `maxBytes`, the file is renamed to PATH.1 (replacing it) and a new one started.
class LogWriter {
  public:
    LogWriter(std::string path, int64_t maxBytes);
    LogWriter(const LogWriter&) = delete;
    LogWriter& operator=(const LogWriter&) = delete;
    /// Records every complete line of `data`; a trailing partial line is recorded as P.
    void write(const char* stream, const char* data, size_t n);
    /// Nothing is buffered between writes; kept for the relay's end-of-stream call.
    void flush() {}

  private:
    void record(const char* stream, char tag, const char* text, size_t n);
    std::string path_;
    int64_t max_;
    UniqueFd fd_;
    int64_t size_ = 0;
};

/// `tether logs` options.
struct LogsOptions {
    bool follow = false;
    int tail = -1; ///< -1: everything
    bool timestamps = false;
};

/// Prints the logs of `id` (rotated file first); with `follow`, keeps printing until the
/// container is no longer running and the log has been read to its end. A container that is
/// unknown is UnknownContainer; one started in the foreground has no log (an error saying so).
Status printLogs(const LauncherPaths& paths, const std::string& id, const LogsOptions& o);

} // namespace tether::rt
