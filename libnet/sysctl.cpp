#include "libnet/sysctl.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>

namespace tether::net {

namespace {

/// Normalises a key to a path relative to /proc/sys and checks it stays under net/.
Expected<std::string> sysctlPath(std::string_view key) {
    std::string rel(key);
    if (rel.find('/') == std::string::npos) std::replace(rel.begin(), rel.end(), '.', '/');
    auto bad = [&] {
        return fail(Code::InvalidConfig, "invalid sysctl \"" + std::string(key) + "\"");
    };
    if (!rel.starts_with("net/") || rel.size() <= 4 || rel.find('\0') != std::string::npos)
        return bad();
    size_t start = 0;
    while (start <= rel.size()) {
        size_t end = rel.find('/', start);
        if (end == std::string::npos) end = rel.size();
        std::string_view part(rel.data() + start, end - start);
        if (part.empty() || part == "." || part == "..") return bad();
        start = end + 1;
    }
    return "/proc/sys/" + rel;
}

/// Opens a sysctl file without following a symlink in the last component and checks that it
/// is really on procfs.
Expected<int> openSysctl(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return failErrno("open sysctl " + path, errno);
    struct statfs sfs {};
    if (fstatfs(fd, &sfs) != 0 || sfs.f_type != PROC_SUPER_MAGIC) {
        ::close(fd);
        return fail(Code::InvalidConfig, path + " is not a procfs sysctl");
    }
    return fd;
}

} // namespace

Expected<std::string> readSysctl(std::string_view key) {
    std::string path = TRY(sysctlPath(key));
    int fd = TRY(openSysctl(path, O_RDONLY));
    std::string value;
    char buf[256];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return failErrno("read sysctl " + path, err);
        }
        if (n == 0) break;
        value.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    while (!value.empty() && (value.back() == '\n' || value.back() == ' '))
        value.pop_back();
    return value;
}

Expected<std::string> readSysctl(const Netns& ns, std::string_view key) {
    return inNetns(ns, [&] { return readSysctl(key); });
}

Status writeSysctl(std::string_view key, std::string_view value) {
    std::string path = TRY(sysctlPath(key));
    int fd = TRY(openSysctl(path, O_WRONLY));
    std::string data(value);
    data += '\n';
    ssize_t n;
    do
        n = ::write(fd, data.data(), data.size());
    while (n < 0 && errno == EINTR);
    int err = errno;
    ::close(fd);
    if (n < 0) return failErrno("write " + std::string(value) + " to sysctl " + path, err);
    return {};
}

Status writeSysctl(const Netns& ns, std::string_view key, std::string_view value) {
    return inNetns(ns, [&] { return writeSysctl(key, value); });
}

Status setForwarding(Family family, bool on) {
    std::string_view key =
        family == Family::V4 ? "net/ipv4/ip_forward" : "net/ipv6/conf/all/forwarding";
    std::string want = on ? "1" : "0";
    auto cur = readSysctl(key);
    if (cur && *cur == want) return {};
    return writeSysctl(key, want);
}

Status setForwarding(const Netns& ns, Family family, bool on) {
    return inNetns(ns, [&] { return setForwarding(family, on); });
}

Status setAcceptRa(std::string_view ifname, int value) {
    if (ifname.empty() || ifname.find('/') != std::string_view::npos || ifname == "." ||
        ifname == "..")
        return fail(Code::InvalidConfig, "invalid interface name \"" + std::string(ifname) + "\"");
    auto st =
        writeSysctl("net/ipv6/conf/" + std::string(ifname) + "/accept_ra", std::to_string(value));
    if (!st && st.error().errnum == ENOENT) return {};
    return st;
}

} // namespace tether::net
