#include "ipam/resolv_conf.hpp"

#include <cerrno>

#include "base/file.hpp"

namespace tether::ipam {

namespace {

constexpr size_t kMaxResolvConf = 64 * 1024;

std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            ++i;
        size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r')
            ++j;
        if (j > i) out.emplace_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

} // namespace

DnsSettings parseResolvConfText(std::string_view text) {
    DnsSettings dns;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        auto w = words(line);
        if (w.size() < 2 || w[0][0] == '#' || w[0][0] == ';') continue;
        if (w[0] == "nameserver")
            dns.nameservers.push_back(w[1]);
        else if (w[0] == "domain")
            dns.domain = w[1];
        else if (w[0] == "search")
            dns.search.insert(dns.search.end(), w.begin() + 1, w.end());
        else if (w[0] == "options")
            dns.options.insert(dns.options.end(), w.begin() + 1, w.end());
    }
    return dns;
}

Expected<DnsSettings> readResolvConf(const std::string& path) {
    // A regular file of bounded size: /dev/zero, a FIFO or a directory here is an error, not an
    // endless read or silently empty DNS settings.
    auto text = TRY(readRegularFile(path, "ipam.resolvConf: read", {.maxBytes = kMaxResolvConf}));
    return parseResolvConfText(text.value_or(std::string())); // missingOk is off: never empty
}

} // namespace tether::ipam
