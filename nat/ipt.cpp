#include "nat/ipt.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nat/ipt_probe.hpp"
#include "nat/tool_exec.hpp"

namespace tether::nat::ipt {

namespace {

// Splits a save line into words; "double quoted" words may hold spaces and \" \\ escapes.
std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        if (i >= line.size()) break;
        std::string w;
        if (line[i] == '"') {
            for (++i; i < line.size() && line[i] != '"'; ++i) {
                if (line[i] == '\\' && i + 1 < line.size()) ++i;
                w += line[i];
            }
            ++i;
        } else {
            while (i < line.size() && line[i] != ' ')
                w += line[i++];
        }
        out.push_back(std::move(w));
    }
    return out;
}

const char* tool(net::Family f, bool restore) {
    if (f == net::Family::V4) return restore ? "iptables-restore" : "iptables-save";
    return restore ? "ip6tables-restore" : "ip6tables-save";
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

} // namespace

std::string Rule::option(std::string_view opt) const {
    auto w = words(spec);
    for (size_t i = 0; i + 1 < w.size(); ++i)
        if (w[i] == opt && (i == 0 || w[i - 1] != "!")) return w[i + 1];
    return {};
}

NatTable parseSave(const std::string& text) {
    NatTable t;
    bool inNat = false;
    for (size_t pos = 0; pos < text.size();) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        std::string line = text.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.empty() || line[0] == '#') continue;
        if (line[0] == '*') {
            inNat = line == "*nat";
            continue;
        }
        if (!inNat) continue;
        if (line[0] == ':') {
            auto w = words(line.substr(1));
            // Built-in chains carry a policy; user chains "-".
            if (w.size() >= 2 && w[1] == "-") t.chains.insert(w[0]);
            continue;
        }
        if (!line.starts_with("-A ")) continue;
        Rule r;
        size_t sp = line.find(' ', 3);
        if (sp == std::string::npos) continue;
        r.chain = line.substr(3, sp - 3);
        r.spec = line.substr(sp + 1);
        auto w = words(r.spec);
        for (size_t i = 0; i + 1 < w.size(); ++i) {
            if (w[i] == "--comment") r.comment = w[i + 1];
            if (w[i] == "-j" || w[i] == "-g") r.target = w[i + 1];
        }
        t.rules.push_back(std::move(r));
    }
    return t;
}

bool available(net::Family family) {
    return findTool(tool(family, true)).has_value();
}

Expected<NatTable> save(net::Family family) {
    auto path = findTool(tool(family, false));
    if (!path)
        return fail(Code::NotAvailable,
                    std::string(tool(family, false)) + " not found: iptables is not installed");
    auto r = TRY(runTool(*path, {"-t", "nat"}, ""));
    if (r.exitCode != 0)
        return fail(Code::Kernel,
                    std::string(tool(family, false)) + " -t nat failed (exit " +
                        std::to_string(r.exitCode) + ")",
                    trimmed(r.err));
    return parseSave(r.out);
}

Status restore(net::Family family, const std::string& body, std::string_view what) {
    if (body.empty()) return {};
    auto path = findTool(tool(family, true));
    if (!path)
        return fail(Code::NotAvailable, std::string(what) + ": " + tool(family, true) +
                                            " not found: iptables is not installed");
    auto r = TRY(runTool(*path, {"--wait", "--noflush"}, "*nat\n" + body + "COMMIT\n"));
    if (r.exitCode != 0)
        return fail(Code::Kernel,
                    std::string(what) + ": " + tool(family, true) + " failed (exit " +
                        std::to_string(r.exitCode) + ")",
                    trimmed(r.err));
    return {};
}

namespace {

// Whether the legacy (x_tables) nat table of `family` is instantiated in this netns.
bool legacyNatLoaded(net::Family f) {
    int fd =
        ::open(f == net::Family::V4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names",
               O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false; // no x_tables at all
    char buf[512];
    std::string names = "\n";
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        names.append(buf, size_t(n));
    ::close(fd);
    return names.find("\nnat\n") != std::string::npos;
}

// Whether the iptables-restore of `f` is iptables-nft (xtables-nft-multi).
bool usesNft(net::Family f) {
    auto path = findTool(tool(f, true));
    if (!path) return false;
    char real[PATH_MAX];
    std::string impl = ::realpath(path->c_str(), real) ? std::string(real) : *path;
    return impl.substr(impl.rfind('/') + 1).find("nft") != std::string::npos;
}

} // namespace

std::vector<net::Family> familiesWith(const std::vector<std::string>& chains) {
    // Common case first, no PATH search: no legacy nat table, so iptables-nft is all there is
    // to ask, with GETCHAINs. Only a loaded legacy nat table costs a look at which iptables
    // this is (iptables-legacy: it may hold our chains; iptables-nft: the GETCHAINs decide).
    std::vector<net::Family> out, nft;
    for (auto f : {net::Family::V4, net::Family::V6}) {
        if (legacyNatLoaded(f) && !usesNft(f) && findTool(tool(f, true)))
            out.push_back(f);
        else
            nft.push_back(f);
    }
    for (auto f : nftFamiliesWithChains(nft, "nat", chains))
        out.push_back(f);
    if (out.size() == 2 && out[0] == net::Family::V6) std::swap(out[0], out[1]);
    return out;
}

Lock::~Lock() {
    if (fd_ >= 0) ::close(fd_); // closing releases the flock
}

Expected<Lock> Lock::acquire() {
    ::mkdir("/run/tether", 0755);
    int fd = ::open("/run/tether/iptables.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return failErrno("open /run/tether/iptables.lock", errno, Code::IoFailure);
    while (::flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        return failErrno("lock /run/tether/iptables.lock", e, Code::IoFailure);
    }
    return Lock(fd);
}

} // namespace tether::nat::ipt
