// conditionsV4/conditionsV6 for the nftables backend (iptables-style tokens translated, nft-style
// tokens checked), and the choice of backend from the keys a config holds.
#include <cctype>
#include <charconv>

#include "plugins/portmap/portmap.hpp"

namespace tether::portmap {

namespace {

Error unsupported(const std::string& key, const std::string& token, const std::string& why) {
    return Error{Code::InvalidConfig,
                 "unsupported " + key + " token \"" + token + "\": " + why +
                     " (the iptables backend, \"backend\": \"iptables\", passes any token through)",
                 {},
                 0};
}

// "a,b" -> "{ a, b }" (one value stays bare).
std::string nftList(const std::vector<std::string>& items) {
    if (items.size() == 1) return items[0];
    std::string out = "{ ";
    for (size_t i = 0; i < items.size(); ++i)
        out += (i ? ", " : "") + items[i];
    return out + " }";
}

std::vector<std::string> splitComma(const std::string& v) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t c = v.find(',', start);
        out.push_back(v.substr(start, c == std::string::npos ? std::string::npos : c - start));
        if (c == std::string::npos) return out;
        start = c + 1;
    }
}

Expected<std::string> addresses(const std::string& v, net::Family f, const std::string& key,
                                const std::string& opt) {
    std::vector<std::string> items;
    for (const auto& part : splitComma(v)) {
        auto p = net::IpPrefix::parseLenient(part);
        if (!p || p->family() != f)
            return std::unexpected(unsupported(key, opt + " " + v,
                                               "\"" + part + "\" is not an " +
                                                   (f == net::Family::V4 ? "IPv4" : "IPv6") +
                                                   " address or prefix"));
        items.push_back(p->length() == p->address().bits() ? p->address().str()
                                                           : p->masked().str());
    }
    return nftList(items);
}

Expected<std::string> ifaceName(const std::string& v, const std::string& key,
                                const std::string& opt) {
    bool ok = !v.empty() && v.size() <= 15;
    for (char ch : v)
        ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ||
                    ch == '.' || ch == '+');
    if (!ok || (v.find('+') != std::string::npos && v.find('+') != v.size() - 1))
        return std::unexpected(unsupported(key, opt + " " + v, "not an interface name"));
    std::string name = v;
    if (name.back() == '+') name.back() = '*'; // iptables' prefix wildcard
    return "\"" + name + "\"";
}

bool number(const std::string& s, int lo, int hi) {
    int n = -1;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    return ec == std::errc() && p == s.data() + s.size() && n >= lo && n <= hi;
}

Expected<std::string> ports(const std::string& v, const std::string& key, const std::string& opt) {
    std::vector<std::string> items;
    for (const auto& part : splitComma(v)) {
        auto colon = part.find(':');
        std::string a = part.substr(0, colon),
                    b = colon == std::string::npos ? "" : part.substr(colon + 1);
        if (!number(a, 0, 65535) || (colon != std::string::npos && !number(b, 0, 65535)))
            return std::unexpected(unsupported(key, opt + " " + v, "not a port or port range"));
        items.push_back(colon == std::string::npos ? a : a + "-" + b);
    }
    return nftList(items);
}

Expected<std::string> protocol(const std::string& v, net::Family f, const std::string& key) {
    for (const char* p :
         {"tcp", "udp", "sctp", "icmp", "icmpv6", "udplite", "dccp", "esp", "ah", "gre"})
        if (v == p) return v == "icmp" && f == net::Family::V6 ? std::string("icmpv6") : v;
    if (number(v, 0, 255)) return v;
    return std::unexpected(unsupported(key, "-p " + v, "unknown protocol"));
}

} // namespace

Expected<std::string> translateConditions(const std::vector<std::string>& tokens,
                                          net::Family family, const std::string& key) {
    const std::string ipx = family == net::Family::V4 ? "ip" : "ip6";
    std::vector<std::string> out;
    bool neg = false;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string& t = tokens[i];
        if (t == "!") {
            if (neg) return std::unexpected(unsupported(key, t, "double negation"));
            neg = true;
            continue;
        }
        if (i + 1 >= tokens.size())
            return std::unexpected(unsupported(
                key, t, t.starts_with("-") ? "value missing" : "not an iptables option"));
        const std::string& v = tokens[++i];
        std::string op = neg ? "!= " : "";
        if (t == "-m" || t == "--match") {
            if (neg || (v != "tcp" && v != "udp" && v != "sctp"))
                return std::unexpected(unsupported(
                    key, t + " " + v, "only the tcp, udp and sctp matches are translated"));
            continue; // their --sport/--dport are translated on their own
        }
        std::string expr;
        if (t == "-s" || t == "--source" || t == "--src")
            expr = ipx + " saddr " + op + TRY(addresses(v, family, key, t));
        else if (t == "-d" || t == "--destination" || t == "--dst")
            expr = ipx + " daddr " + op + TRY(addresses(v, family, key, t));
        else if (t == "-i" || t == "--in-interface")
            expr = "iifname " + op + TRY(ifaceName(v, key, t));
        else if (t == "-o" || t == "--out-interface")
            expr = "oifname " + op + TRY(ifaceName(v, key, t));
        else if (t == "-p" || t == "--protocol") {
            if (v == "all") {
                if (neg) return std::unexpected(unsupported(key, "! -p all", "matches nothing"));
                neg = false;
                continue;
            }
            expr = "meta l4proto " + op + TRY(protocol(v, family, key));
        } else if (t == "--dport" || t == "--destination-port" || t == "--dports")
            expr = "th dport " + op + TRY(ports(v, key, t));
        else if (t == "--sport" || t == "--source-port" || t == "--sports")
            expr = "th sport " + op + TRY(ports(v, key, t));
        else
            return std::unexpected(unsupported(key, t,
                                               "the nftables backend translates only ! -s -d -i -o "
                                               "-p --sport --dport and -m tcp|udp|sctp"));
        out.push_back(std::move(expr));
        neg = false;
    }
    if (neg) return std::unexpected(unsupported(key, "!", "negates nothing"));
    std::string joined;
    for (const auto& e : out)
        joined += (joined.empty() ? "" : " ") + e;
    return joined;
}

Expected<nat::Backend> chooseBackend(const Config& c) {
    if (!c.backend.empty()) return nat::parseBackend(c.backend, "backend");
    if (!c.externalSetMarkChain.empty()) return nat::Backend::Iptables;
    if (c.cond4.nftStyle || c.cond6.nftStyle) return nat::Backend::Nftables;
    return nat::resolveBackend("", "backend");
}

} // namespace tether::portmap
