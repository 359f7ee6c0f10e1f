#include "runtime/launcher/etc_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "base/unique_fd.hpp"
#include "runtime/launcher/fs_util.hpp"

namespace tether::rt {
namespace {

constexpr const char* kFiles[] = {"hostname", "hosts", "resolv.conf"};

struct Resolv {
    std::vector<std::string> servers, search, options;
};

Resolv parseResolv(const std::string& text) {
    Resolv r;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string key, v;
        ls >> key;
        if (key == "nameserver" && ls >> v) r.servers.push_back(v);
        if (key == "search" || key == "domain")
            while (ls >> v)
                r.search.push_back(v);
        if (key == "options")
            while (ls >> v)
                r.options.push_back(v);
    }
    return r;
}

bool loopback(const std::string& ip) {
    return ip.starts_with("127.") || ip == "::1";
}

/// The host's resolver config as a container outside the host netns can use it: loopback
/// stubs (systemd-resolved) are replaced by the upstream list when there is one, else dropped.
Resolv hostResolv(bool hostNet) {
    auto text = readFile("/etc/resolv.conf");
    Resolv r = parseResolv(text ? *text : "");
    if (hostNet) return r;
    bool allLoop = !r.servers.empty();
    for (const auto& s : r.servers)
        allLoop &= loopback(s);
    if (allLoop) {
        if (auto up = readFile("/run/systemd/resolve/resolv.conf")) {
            Resolv u = parseResolv(*up);
            r.servers = u.servers;
        }
    }
    std::vector<std::string> keep;
    for (const auto& s : r.servers)
        if (!loopback(s)) keep.push_back(s);
    r.servers = keep;
    return r;
}

Status fill(const std::string& path, const std::string& data) {
    return writeFile(path, data, true, 0644);
}

} // namespace

Expected<std::vector<Volume>> prepareEtcFiles(const std::string& stateDir,
                                              const std::string& rootDir, bool existingOnly) {
    std::vector<Volume> out;
    for (const char* f : kFiles) {
        struct stat st {};
        std::string inRoot = rootDir + "/etc/" + f;
        bool exists = ::lstat(inRoot.c_str(), &st) == 0;
        if ((exists && !S_ISREG(st.st_mode)) || (!exists && existingOnly)) continue;
        std::string host = stateDir + "/" + f;
        if (UniqueFd fd(::open(host.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644)); !fd)
            return failErrno("create " + host, errno);
        out.push_back({host, std::string("/etc/") + f, false});
    }
    return out;
}

Status writeEtcFiles(const std::string& stateDir, const RunOptions& o,
                     const std::vector<Attached>& attached) {
    std::string dir = stateDir + "/";
    bool hostNet = o.net.kind == NsMode::Host;
    if (::access((dir + "hostname").c_str(), F_OK) == 0) {
        char host[256] = {};
        if (hostNet) ::gethostname(host, sizeof host - 1);
        TRY(fill(dir + "hostname", (hostNet ? std::string(host) : o.hostname) + "\n"));
    }
    if (::access((dir + "hosts").c_str(), F_OK) == 0) {
        std::string h;
        if (hostNet) {
            auto text = readFile("/etc/hosts");
            h = text ? *text : "127.0.0.1\tlocalhost\n";
            if (!h.empty() && h.back() != '\n') h += '\n';
        } else {
            h = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
            std::string names = o.hostname + (o.id != o.hostname ? " " + o.id : "");
            bool any = false;
            for (const auto& a : attached)
                for (const auto& ip : a.result.ips) {
                    h += ip.address.substr(0, ip.address.find('/')) + "\t" + names + "\n";
                    any = true;
                }
            if (!any) h += "127.0.1.1\t" + names + "\n";
        }
        for (const auto& [name, ip] : o.addHosts)
            h += ip + "\t" + name + "\n";
        TRY(fill(dir + "hosts", h));
    }
    if (::access((dir + "resolv.conf").c_str(), F_OK) == 0) {
        Resolv r;
        std::string source = "the host's /etc/resolv.conf";
        for (const auto& a : attached)
            if (r.servers.empty() && !a.result.dns.nameservers.empty()) {
                r.servers = a.result.dns.nameservers;
                r.search = a.result.dns.search;
                if (r.search.empty() && !a.result.dns.domain.empty())
                    r.search = {a.result.dns.domain};
                r.options = a.result.dns.options;
                source = "the DNS result of network " + a.network;
            }
        if (r.servers.empty()) r = hostResolv(hostNet);
        if (!o.dns.empty()) {
            r.servers = o.dns;
            source = "--dns";
        }
        if (!o.dnsSearch.empty()) r.search = o.dnsSearch;
        if (!o.dnsOption.empty()) r.options = o.dnsOption;
        std::string t = "# written by tether from " + source + "\n";
        if (r.servers.empty()) t += "# no name server known (use --dns)\n";
        for (const auto& s : r.servers)
            t += "nameserver " + s + "\n";
        if (!r.search.empty()) {
            t += "search";
            for (const auto& s : r.search)
                t += " " + s;
            t += "\n";
        }
        if (!r.options.empty()) {
            t += "options";
            for (const auto& s : r.options)
                t += " " + s;
            t += "\n";
        }
        TRY(fill(dir + "resolv.conf", t));
    }
    return {};
}

} // namespace tether::rt
