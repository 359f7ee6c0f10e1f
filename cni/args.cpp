#include "cni/args.hpp"

#include <optional>

namespace tether::cni {

namespace {

bool isAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/// ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$
bool validName(std::string_view s) {
    if (s.empty() || !isAlnum(s[0])) return false;
    for (char c : s)
        if (!isAlnum(c) && c != '_' && c != '.' && c != '-') return false;
    return true;
}

/// Go's %q for plain ASCII text; other bytes are escaped as \xNN.
std::string quote(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string q = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            q += '\\';
            q += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            q += static_cast<char>(c);
        } else {
            q += "\\x";
            q += kHex[c >> 4];
            q += kHex[c & 0xf];
        }
    }
    return q + "\"";
}

std::optional<bool> parseBool(std::string_view v) {
    std::string lower(v);
    for (auto& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (lower == "1" || lower == "true") return true;
    if (lower == "0" || lower == "false") return false;
    return std::nullopt;
}

} // namespace

Expected<ArgPairs> parseCniArgs(std::string_view raw,
                                std::initializer_list<std::string_view> known) {
    ArgPairs pairs;
    if (raw.empty()) return pairs;
    std::vector<std::string_view> unknown;
    bool ignoreUnknown = false;
    size_t start = 0;
    while (true) {
        size_t end = raw.find(';', start);
        std::string_view pair =
            raw.substr(start, end == std::string_view::npos ? raw.npos : end - start);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || pair.find('=', eq + 1) != std::string_view::npos)
            return fail(Code::InvalidEnv, "ARGS: invalid pair " + quote(pair));
        std::string_view key = pair.substr(0, eq), value = pair.substr(eq + 1);
        if (key == "IgnoreUnknown") {
            auto b = parseBool(value);
            if (!b)
                return fail(Code::InvalidEnv, "ARGS: error parsing value of pair " + quote(pair),
                            "boolean unmarshal error: invalid input " + std::string(value));
            ignoreUnknown = *b;
        } else {
            bool isKnown = false;
            for (auto k : known)
                isKnown = isKnown || k == key;
            if (!isKnown) unknown.push_back(pair);
        }
        pairs.emplace_back(std::string(key), std::string(value));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    if (!unknown.empty() && !ignoreUnknown) {
        std::string list = "[";
        for (size_t i = 0; i < unknown.size(); ++i) {
            if (i) list += ' ';
            list += quote(unknown[i]);
        }
        return fail(Code::InvalidEnv, "ARGS: unknown args " + list + "]");
    }
    return pairs;
}

const std::string* findArg(const ArgPairs& pairs, std::string_view key) {
    for (const auto& [k, v] : pairs)
        if (k == key) return &v;
    return nullptr;
}

Status validateContainerId(std::string_view id) {
    if (id.empty()) return fail(Code::UnknownContainer, "missing containerID");
    if (id.size() > kMaxContainerIdLength)
        return fail(Code::InvalidEnv,
                    "containerID is too long (" + std::to_string(id.size()) + " bytes)",
                    "a containerID is at most " + std::to_string(kMaxContainerIdLength) + " bytes");
    if (!validName(id))
        return fail(Code::InvalidEnv, "invalid characters in containerID " + quote(id),
                    "a containerID must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
    return {};
}

Status validateNetworkName(std::string_view name) {
    if (name.empty()) return fail(Code::InvalidConfig, "missing network name");
    if (name.size() > kMaxNetworkNameLength)
        return fail(Code::InvalidConfig,
                    "network name is too long (" + std::to_string(name.size()) + " bytes)",
                    "a network name is at most " + std::to_string(kMaxNetworkNameLength) +
                        " bytes");
    if (!validName(name))
        return fail(Code::InvalidConfig, "invalid characters found in network name " + quote(name),
                    "a network name must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
    return {};
}

Status validateIfName(std::string_view ifname) {
    if (ifname.empty()) return fail(Code::InvalidEnv, "interface name is empty");
    if (ifname.size() > 15)
        return fail(Code::InvalidEnv, "interface name " + quote(ifname) + " is too long",
                    "interface name should be less than 16 characters");
    if (ifname == "." || ifname == "..")
        return fail(Code::InvalidEnv, "interface name " + quote(ifname) + " is . or ..");
    for (char c : ifname)
        if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r'))
            return fail(Code::InvalidEnv, "interface name " + quote(ifname) +
                                              " contains / or : or whitespace characters");
    return {};
}

Status validatePluginType(std::string_view type) {
    if (type.empty()) return fail(Code::InvalidConfig, "plugin type is empty");
    if (type == "." || type == ".." || type.find('/') != std::string_view::npos)
        return fail(Code::InvalidConfig, "invalid plugin type " + quote(type),
                    "a plugin type is a file name in CNI_PATH: no '/', not . or ..");
    return {};
}

} // namespace tether::cni
