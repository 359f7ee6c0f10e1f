#include "runtime/launcher/logs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <thread>

#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/state.hpp"

namespace tether::rt {
namespace {

std::string nowRfc3339Nano() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    ::gmtime_r(&ts.tv_sec, &t);
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
    std::snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
    return buf;
}

/// One parsed record.
struct Record {
    std::string time;
    bool partial = false;
    std::string text;
};

bool parseRecord(const std::string& line, Record& r) {
    auto a = line.find(' ');
    if (a == std::string::npos) return false;
    auto b = line.find(' ', a + 1);
    if (b == std::string::npos || b + 2 > line.size()) return false;
    r.time = line.substr(0, a);
    r.partial = line[b + 1] == 'P';
    r.text = b + 3 <= line.size() ? line.substr(b + 3) : "";
    return true;
}

/// Renders records into lines (P records joined to the next), tracking line starts for the
/// timestamp prefix.
struct Printer {
    bool timestamps;
    bool atLineStart = true;
    void print(const Record& r) {
        if (atLineStart && timestamps) std::printf("%s ", r.time.c_str());
        std::fwrite(r.text.data(), 1, r.text.size(), stdout);
        if (!r.partial) std::fputc('\n', stdout);
        atLineStart = !r.partial;
    }
};

/// Reads whole lines appended to `fd` since the last call (keeps an incomplete tail in `buf`).
void readLines(int fd, std::string& buf, std::vector<std::string>& out) {
    char chunk[65536];
    ssize_t n;
    while ((n = ::read(fd, chunk, sizeof chunk)) > 0)
        buf.append(chunk, static_cast<size_t>(n));
    size_t start = 0, nl;
    while ((nl = buf.find('\n', start)) != std::string::npos) {
        out.push_back(buf.substr(start, nl - start));
        start = nl + 1;
    }
    buf.erase(0, start);
}

} // namespace

LogWriter::LogWriter(std::string path, int64_t maxBytes)
    : path_(std::move(path)), max_(maxBytes),
      fd_(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) {
    struct stat st {};
    if (fd_ && ::fstat(fd_.get(), &st) == 0) size_ = st.st_size;
}

void LogWriter::record(const char* stream, char tag, const char* text, size_t n) {
    std::string rec = nowRfc3339Nano() + " " + stream + " " + tag + " ";
    rec.append(text, n);
    rec += '\n';
    // Rotated only once the old file is safely renamed; else it grows past max rather than being
    // truncated.
    if (size_ > 0 && size_ + static_cast<int64_t>(rec.size()) > max_ &&
        ::rename(path_.c_str(), (path_ + ".1").c_str()) == 0) {
        fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600));
        size_ = 0;
    }
    if (!fd_) return;
    if (::write(fd_.get(), rec.data(), rec.size()) == static_cast<ssize_t>(rec.size()))
        size_ += static_cast<int64_t>(rec.size());
}

void LogWriter::write(const char* stream, const char* data, size_t n) {
    size_t start = 0;
    while (start < n) {
        const void* nl = std::memchr(data + start, '\n', n - start);
        if (!nl) {
            record(stream, 'P', data + start, n - start);
            return;
        }
        size_t end = static_cast<size_t>(static_cast<const char*>(nl) - data);
        size_t len = end - start;
        if (len > 0 && data[end - 1] == '\r') --len; // terminal output: CR LF
        record(stream, 'F', data + start, len);
        start = end + 1;
    }
}

Status printLogs(const LauncherPaths& paths, const std::string& id, const LogsOptions& o) {
    auto st = TRY(readState(paths, id));
    std::string path = paths.stateDir(id) + "/container.log";
    if (!st.detached)
        return fail(Code::InvalidConfig, "container " + id +
                                             " runs in the foreground: its output goes to the "
                                             "terminal that started it, there is no log");
    std::vector<std::string> lines;
    std::string tailBuf;
    if (UniqueFd old(::open((path + ".1").c_str(), O_RDONLY | O_CLOEXEC)); old) {
        readLines(old.get(), tailBuf, lines);
        tailBuf.clear();
    }
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    std::string buf;
    if (fd) readLines(fd.get(), buf, lines);
    Printer pr{o.timestamps};
    std::vector<Record> recs;
    for (const auto& l : lines)
        if (Record r; parseRecord(l, r)) recs.push_back(r);
    size_t from = 0;
    if (o.tail >= 0) {
        // Walk back over `tail` complete lines (a line = P* F).
        int seen = 0;
        from = recs.size();
        while (from > 0) {
            if (!recs[from - 1].partial) {
                if (seen == o.tail) break;
                ++seen;
            }
            --from;
        }
    }
    for (size_t i = from; i < recs.size(); ++i)
        pr.print(recs[i]);
    std::fflush(stdout);
    if (!o.follow) return {};
    struct stat cur {};
    if (fd) ::fstat(fd.get(), &cur);
    for (;;) {
        auto state = readState(paths, id);
        bool running = false; // a removed container is not
        if (state) {
            ContainerStatus status = liveStatus(*state);
            running = isUp(status) || status == ContainerStatus::Creating;
        }
        // After the rotation the old fd holds the end of the previous file: read it, reopen.
        struct stat now {};
        if (::stat(path.c_str(), &now) == 0 && (!fd || now.st_ino != cur.st_ino)) {
            std::vector<std::string> more;
            if (fd) readLines(fd.get(), buf, more);
            fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            buf.clear();
            if (fd) ::fstat(fd.get(), &cur);
            for (const auto& l : more)
                if (Record r; parseRecord(l, r)) pr.print(r);
        }
        std::vector<std::string> more;
        if (fd) readLines(fd.get(), buf, more);
        for (const auto& l : more)
            if (Record r; parseRecord(l, r)) pr.print(r);
        std::fflush(stdout);
        if (!running) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
}

} // namespace tether::rt
