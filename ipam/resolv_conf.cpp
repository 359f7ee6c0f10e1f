#include "ipam/resolv_conf.hpp"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace tether::ipam {

namespace {

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
    std::ifstream in(path);
    if (!in) return failErrno("ipam.resolvConf: read " + path, errno, Code::IoFailure);
    std::stringstream ss;
    ss << in.rdbuf();
    return parseResolvConfText(ss.str());
}

} // namespace tether::ipam
