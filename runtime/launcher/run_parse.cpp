// Parsers for `run` values that need more than syntax: port specs and host ports, environment
// entries and files, users from the rootfs, --add-host.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/unique_fd.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {
namespace {

std::optional<std::pair<int, int>> portRange(const std::string& s) {
    auto num = [](const std::string& t) -> std::optional<int> {
        if (t.empty() || t.size() > 5 || t.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        int p = std::atoi(t.c_str());
        if (p < 1 || p > 65535) return std::nullopt;
        return p;
    };
    auto dash = s.find('-');
    auto a = num(s.substr(0, dash));
    auto b = dash == std::string::npos ? a : num(s.substr(dash + 1));
    if (!a || !b || *b < *a) return std::nullopt;
    return std::pair{*a, *b};
}

bool digits(const std::string& s) {
    return !s.empty() && s.size() < 11 && s.find_first_not_of("0123456789") == std::string::npos;
}

/// Field 0/2/3 of a passwd or group line whose name (or id) is `key`.
std::optional<std::vector<std::string>> lookup(const std::string& file, const std::string& key) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ls(line);
        std::string x;
        while (std::getline(ls, x, ':'))
            f.push_back(x);
        if (f.size() >= 3 && (f[0] == key || (digits(key) && f[2] == key))) return f;
    }
    return std::nullopt;
}

/// Binds hostIP:port (any address when empty) with SO_REUSEADDR; returns the bound port or an
/// errno.
std::pair<int, int> tryBind(const std::string& hostIp, int port, const std::string& proto) {
    bool v6 = hostIp.find(':') != std::string::npos;
    int type = proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    UniqueFd sock(::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0));
    if (!sock) return {0, errno};
    int fd = sock.get();
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(static_cast<uint16_t>(port));
        ::inet_pton(AF_INET6, hostIp.c_str(), &s6->sin6_addr);
        len = sizeof *s6;
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(static_cast<uint16_t>(port));
        if (!hostIp.empty()) ::inet_pton(AF_INET, hostIp.c_str(), &s4->sin_addr);
        len = sizeof *s4;
    }
    int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len);
    int err = errno;
    if (rc != 0) {
        // An address not configured on the host: the mapping is still possible (DNAT).
        return {err == EADDRNOTAVAIL ? port : 0, err == EADDRNOTAVAIL ? 0 : err};
    }
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    int bound = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    return {bound, 0};
}

} // namespace

bool validIp(const std::string& text) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, text.c_str(), buf) == 1 ||
           ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

Expected<std::vector<nlohmann::json>> parsePortSpec(const std::string& spec) {
    std::string body = spec, proto = "tcp";
    if (auto slash = spec.find('/'); slash != std::string::npos) {
        body = spec.substr(0, slash);
        proto = spec.substr(slash + 1);
        if (proto != "tcp" && proto != "udp" && proto != "sctp")
            return fail(Code::InvalidConfig, "-p " + spec + ": protocol must be tcp, udp or sctp");
    }
    std::string hostIp, hostPart, ctrPart;
    auto last = body.rfind(':');
    if (last == std::string::npos) {
        ctrPart = body;
    } else {
        ctrPart = body.substr(last + 1);
        std::string head = body.substr(0, last);
        if (head.starts_with("[")) { // [v6]:port
            auto close = head.find(']');
            if (close == std::string::npos)
                return fail(Code::InvalidConfig, "-p " + spec + ": unbalanced [ in host address");
            hostIp = head.substr(1, close - 1);
            hostPart = head.size() > close + 1 ? head.substr(close + 2) : "";
        } else if (auto c = head.rfind(':'); c != std::string::npos) {
            hostIp = head.substr(0, c);
            hostPart = head.substr(c + 1);
        } else {
            hostPart = head;
        }
    }
    if (!hostIp.empty() && !validIp(hostIp))
        return fail(Code::InvalidConfig,
                    "-p " + spec + ": host address " + hostIp + " is not an IP");
    auto ctr = portRange(ctrPart);
    std::pair<int, int> host{0, -1}; // -1: no host port given
    bool hostOk = true;
    if (!hostPart.empty()) {
        auto h = portRange(hostPart);
        hostOk = h.has_value();
        if (h) host = *h;
    }
    if (!ctr || !hostOk)
        return fail(Code::InvalidConfig,
                    "-p " + spec +
                        ": expected [[HOSTIP:]HOSTPORT[-END]:]CTRPORT[-END][/proto] with ports "
                        "in 1..65535");
    int n = ctr->second - ctr->first + 1;
    bool hasHost = host.second >= 0;
    if (hasHost && host.second - host.first + 1 != n)
        return fail(Code::InvalidConfig,
                    "-p " + spec + ": host and container port ranges differ in length");
    std::vector<nlohmann::json> out;
    for (int k = 0; k < n; ++k) {
        nlohmann::json j = {{"hostPort", hasHost ? host.first + k : 0},
                            {"containerPort", ctr->first + k},
                            {"protocol", proto}};
        if (!hostIp.empty()) j["hostIP"] = hostIp;
        out.push_back(j);
    }
    return out;
}

Status assignHostPorts(nlohmann::json& mappings) {
    for (auto& m : mappings) {
        std::string ip = m.value("hostIP", ""), proto = m.value("protocol", "tcp");
        if (proto == "sctp") continue;
        int port = m.value("hostPort", 0);
        auto [bound, err] = tryBind(ip, port, proto);
        if (err != 0) {
            std::string where = (ip.empty() ? std::string("0.0.0.0") : ip) + ":" +
                                std::to_string(port) + "/" + proto;
            return fail(Code::Conflict,
                        "-p: cannot listen on the host port " + where + ": " + std::strerror(err) +
                            (err == EADDRINUSE ? " (a host process holds it)" : ""));
        }
        if (port == 0) m["hostPort"] = bound;
    }
    return {};
}

Expected<std::optional<std::string>> parseEnvEntry(const std::string& entry,
                                                   const std::string& flag) {
    auto eq = entry.find('=');
    std::string name = entry.substr(0, eq);
    bool bad = name.empty();
    for (char c : name)
        bad |= std::isspace(static_cast<unsigned char>(c)) != 0;
    if (bad)
        return fail(Code::InvalidConfig,
                    flag + " " + entry + ": invalid environment variable (expected NAME[=VALUE])");
    if (eq != std::string::npos) return std::optional<std::string>(entry);
    if (const char* v = std::getenv(name.c_str()))
        return std::optional<std::string>(name + "=" + v);
    return std::optional<std::string>();
}

Expected<std::vector<std::string>> readEnvFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(Code::InvalidConfig, "--env-file " + path + ": " + std::strerror(errno));
    std::vector<std::string> out;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#') continue;
        auto e = parseEnvEntry(line.substr(start), "--env-file " + path + ":" + std::to_string(n));
        if (!e) return std::unexpected(e.error());
        if (const std::optional<std::string>& entry = *e) out.push_back(*entry);
    }
    return out;
}

Expected<std::pair<uid_t, gid_t>> resolveUser(const std::string& spec, const std::string& root) {
    auto colon = spec.find(':');
    std::string u = spec.substr(0, colon);
    std::string g = colon == std::string::npos ? "" : spec.substr(colon + 1);
    if (u.empty() || (colon != std::string::npos && g.empty()))
        return fail(Code::InvalidConfig, "--user " + spec + ": expected NAME|UID[:GROUP|GID]");
    uid_t uid;
    gid_t gid = 0;
    auto pw = lookup(root + "/etc/passwd", u);
    if (digits(u)) {
        uid = static_cast<uid_t>(std::strtoul(u.c_str(), nullptr, 10));
        if (pw && pw->size() >= 4 && digits((*pw)[3]))
            gid = static_cast<gid_t>(std::strtoul((*pw)[3].c_str(), nullptr, 10));
    } else {
        if (!pw || pw->size() < 4 || !digits((*pw)[2]))
            return fail(Code::InvalidConfig,
                        "--user " + spec + ": no user " + u + " in the container's /etc/passwd");
        uid = static_cast<uid_t>(std::strtoul((*pw)[2].c_str(), nullptr, 10));
        gid = static_cast<gid_t>(std::strtoul((*pw)[3].c_str(), nullptr, 10));
    }
    if (!g.empty()) {
        if (digits(g)) {
            gid = static_cast<gid_t>(std::strtoul(g.c_str(), nullptr, 10));
        } else {
            auto gr = lookup(root + "/etc/group", g);
            if (!gr || !digits((*gr)[2]))
                return fail(Code::InvalidConfig, "--user " + spec + ": no group " + g +
                                                     " in the container's /etc/group");
            gid = static_cast<gid_t>(std::strtoul((*gr)[2].c_str(), nullptr, 10));
        }
    } else if (digits(u) && !pw) {
        gid = static_cast<gid_t>(uid); // numeric uid not in passwd: gid = uid (as before)
    }
    return std::pair{uid, gid};
}

Expected<std::pair<std::string, std::string>> parseAddHost(const std::string& spec) {
    auto c = spec.find(':');
    if (c == std::string::npos || c == 0)
        return fail(Code::InvalidConfig, "--add-host " + spec + ": expected NAME:IP");
    std::string name = spec.substr(0, c), ip = spec.substr(c + 1);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (!validIp(ip))
        return fail(Code::InvalidConfig,
                    "--add-host " + spec + ": " + ip + " is not an IP address");
    for (char ch : name)
        if (std::isspace(static_cast<unsigned char>(ch)) || ch == '#')
            return fail(Code::InvalidConfig, "--add-host " + spec + ": invalid host name");
    return std::pair{name, ip};
}

} // namespace tether::rt
