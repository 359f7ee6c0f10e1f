// Logging for the plugins and the `tether` CLI, over spdlog (docs/logging.md). One process-wide
// logger with up to two sinks: stderr and a file, each with its own level. Nothing is set up
// until configure() enables a sink, so a disabled level costs one integer comparison: the message
// is not formatted and spdlog is never touched. Log lines carry a context prefix (plugin type,
// command, container id, ifname) set by the caller (cni/skel for plugins).
#pragma once

#include <string>
#include <string_view>

// fmt header-only (no libfmt.so to load at plugin start-up); defined here rather than on the
// command line so only files that log see it.
#ifndef FMT_HEADER_ONLY
#define FMT_HEADER_ONLY 1
#endif
#include <fmt/core.h>

#include "base/error.hpp"

namespace tether::log {

/// Severity, lowest first. `Off` as a threshold disables a sink.
enum class Level : int { Trace = 0, Debug, Info, Warn, Error, Off };

/// Parses trace|debug|info|warn|error|off (case-insensitive; "warning" is accepted for warn).
/// Anything else: code 7 naming `what` and the value and listing the valid levels.
Expected<Level> parseLevel(std::string_view text, std::string_view what);

/// The level's lower-case name ("debug").
std::string_view levelName(Level level);

/// Where log lines go. A file is opened for appending (created 0640 when missing).
struct Options {
    Level stderrLevel = Level::Off;
    std::string file;              ///< absolute path, empty = no file sink
    Level fileLevel = Level::Info; ///< threshold of the file sink
};

/// Replaces the sinks by `o`. Unchanged options are a no-op that writes nothing (safe while other
/// threads log); otherwise not thread-safe. A file that cannot be opened: code 5 naming the path;
/// the stderr sink is still applied.
Status configure(const Options& o);

/// The options in force (what configure() last applied).
const Options& current();

namespace detail {
/// The lowest level any sink accepts (Off when none): the fast check.
extern int g_threshold;
void write(Level level, std::string_view msg);
} // namespace detail

/// True when a line at `level` would be written somewhere.
inline bool enabled(Level level) {
    return static_cast<int>(level) >= detail::g_threshold;
}

/// True when any sink is enabled (worth building a context string).
inline bool active() {
    return detail::g_threshold < static_cast<int>(Level::Off);
}

/// Formats (fmt syntax) and writes a line at `level` if enabled; otherwise does nothing.
template <class... A> void logf(Level level, fmt::format_string<A...> f, A&&... args) {
    if (!enabled(level)) return;
    detail::write(level, fmt::vformat(f, fmt::make_format_args(args...)));
}
template <class... A> void trace(fmt::format_string<A...> f, A&&... a) {
    logf(Level::Trace, f, std::forward<A>(a)...);
}
template <class... A> void debug(fmt::format_string<A...> f, A&&... a) {
    logf(Level::Debug, f, std::forward<A>(a)...);
}
template <class... A> void info(fmt::format_string<A...> f, A&&... a) {
    logf(Level::Info, f, std::forward<A>(a)...);
}
template <class... A> void warn(fmt::format_string<A...> f, A&&... a) {
    logf(Level::Warn, f, std::forward<A>(a)...);
}
template <class... A> void error(fmt::format_string<A...> f, A&&... a) {
    logf(Level::Error, f, std::forward<A>(a)...);
}

/// Sets the prefix of this thread's lines ("bridge ADD container=c1 ifname=eth0") for its
/// lifetime and restores the previous one after (a plugin run in-process nests its own).
class ScopedContext {
  public:
    explicit ScopedContext(std::string context);
    ~ScopedContext();
    ScopedContext(const ScopedContext&) = delete;
    ScopedContext& operator=(const ScopedContext&) = delete;

  private:
    std::string previous_;
};

/// Applies `o` for its lifetime and restores the previous options after; a failure to apply
/// is kept in status() (the previous options still come back).
class ScopedOptions {
  public:
    explicit ScopedOptions(const Options& o);
    ~ScopedOptions();
    ScopedOptions(const ScopedOptions&) = delete;
    ScopedOptions& operator=(const ScopedOptions&) = delete;
    const Status& status() const { return status_; }

  private:
    Options previous_;
    Status status_;
};

} // namespace tether::log
