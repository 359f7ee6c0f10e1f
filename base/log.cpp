#include "base/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>
#include <mutex>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include "base/unique_fd.hpp"

namespace tether::log {

int detail::g_threshold = static_cast<int>(Level::Off);

namespace {

constexpr std::array<std::string_view, 6> kNames = {"trace", "debug", "info",
                                                    "warn",  "error", "off"};

/// One line, one write(2) on an O_APPEND descriptor: lines of plugins running at once for
/// different containers never interleave inside a line.
class FdSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    FdSink(int fd, UniqueFd owned) : fd_(fd), owned_(std::move(owned)) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t buf;
        formatter_->format(msg, buf);
        const char* p = buf.data();
        size_t left = buf.size();
        while (left > 0) {
            ssize_t n = ::write(fd_, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return; // a log line is never worth failing the operation
            p += n;
            left -= static_cast<size_t>(n);
        }
    }
    void flush_() override {}

  private:
    int fd_;
    UniqueFd owned_;
};

struct State {
    Options options;
    std::shared_ptr<spdlog::logger> logger;
};

/// Per thread: a plugin run in-process on another thread (IPAM beside link creation) has its own.
thread_local std::string t_context;

bool sameOptions(const Options& a, const Options& b) {
    return a.file == b.file && a.stderrLevel == b.stderrLevel && a.fileLevel == b.fileLevel;
}

bool wantsSinks(const Options& o) {
    return o.stderrLevel != Level::Off || (!o.file.empty() && o.fileLevel != Level::Off);
}

State& state() {
    static State s;
    return s;
}

spdlog::level::level_enum toSpd(Level l) {
    switch (l) {
    case Level::Trace:
        return spdlog::level::trace;
    case Level::Debug:
        return spdlog::level::debug;
    case Level::Info:
        return spdlog::level::info;
    case Level::Warn:
        return spdlog::level::warn;
    case Level::Error:
        return spdlog::level::err;
    case Level::Off:
        break;
    }
    return spdlog::level::off;
}

std::shared_ptr<spdlog::sinks::sink> makeSink(int fd, UniqueFd owned, Level level) {
    auto sink = std::make_shared<FdSink>(fd, std::move(owned));
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%fZ %l [%P] %v", spdlog::pattern_time_type::utc));
    sink->set_level(toSpd(level));
    return sink;
}

} // namespace

Expected<Level> parseLevel(std::string_view text, std::string_view what) {
    std::string lower(text);
    for (auto& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (lower == "warning") return Level::Warn;
    for (size_t i = 0; i < kNames.size(); ++i)
        if (lower == kNames[i]) return static_cast<Level>(i);
    return fail(Code::InvalidConfig, std::string(what) + " \"" + std::string(text) +
                                         "\" is not a log level (trace, debug, info, warn, "
                                         "error, off)");
}

std::string_view levelName(Level level) {
    return kNames[static_cast<size_t>(level)];
}

const Options& current() {
    return state().options;
}

Status configure(const Options& o) {
    State& s = state();
    // Unchanged options change nothing (not even a write): nested plugin runs on other threads
    // apply the same options while this one logs.
    if (sameOptions(o, s.options) && (s.logger != nullptr) == wantsSinks(o)) return {};
    Status result;
    std::vector<std::shared_ptr<spdlog::sinks::sink>> sinks;
    Options applied = o;
    if (o.stderrLevel != Level::Off) sinks.push_back(makeSink(2, UniqueFd(), o.stderrLevel));
    if (!o.file.empty() && o.fileLevel != Level::Off) {
        UniqueFd fd(
            ::open(o.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640));
        if (fd) {
            int raw = fd.get();
            sinks.push_back(makeSink(raw, std::move(fd), o.fileLevel));
        } else {
            result = failErrno("open log file " + o.file, errno, Code::IoFailure);
            applied.file.clear();
        }
    }
    s.options = applied;
    int threshold = static_cast<int>(Level::Off);
    if (applied.stderrLevel != Level::Off) threshold = static_cast<int>(applied.stderrLevel);
    if (!applied.file.empty() && applied.fileLevel != Level::Off)
        threshold = std::min(threshold, static_cast<int>(applied.fileLevel));
    detail::g_threshold = threshold;
    if (sinks.empty()) {
        s.logger.reset();
        return result;
    }
    s.logger = std::make_shared<spdlog::logger>("tether", sinks.begin(), sinks.end());
    s.logger->set_level(spdlog::level::trace); // each sink filters by its own level
    return result;
}

void detail::write(Level level, std::string_view msg) {
    State& s = state();
    if (!s.logger) return;
    if (t_context.empty())
        s.logger->log(toSpd(level), "{}", msg);
    else
        s.logger->log(toSpd(level), "{}: {}", t_context, msg);
}

ScopedContext::ScopedContext(std::string context) : previous_(std::move(t_context)) {
    t_context = std::move(context);
}

ScopedContext::~ScopedContext() {
    t_context = std::move(previous_);
}

ScopedOptions::ScopedOptions(const Options& o) : previous_(current()), status_(configure(o)) {}

ScopedOptions::~ScopedOptions() {
    (void)configure(previous_);
}

} // namespace tether::log
