#include "cni/version.hpp"

#include <array>
#include <charconv>

namespace tether::cni {

namespace {
constexpr std::array<std::string_view, 7> kVersions = {"0.1.0", "0.2.0", "0.3.0", "0.3.1",
                                                       "0.4.0", "1.0.0", "1.1.0"};

std::array<int, 3> parseSemver(std::string_view v) {
    std::array<int, 3> parts{0, 0, 0};
    for (int i = 0; i < 3; ++i) {
        auto dot = v.find('.');
        auto piece = v.substr(0, dot);
        int n = 0;
        auto [p, ec] = std::from_chars(piece.data(), piece.data() + piece.size(), n);
        if (ec != std::errc() || p != piece.data() + piece.size()) return {0, 0, 0};
        parts[i] = n;
        if (dot == std::string_view::npos) break;
        v.remove_prefix(dot + 1);
    }
    return parts;
}

std::string versionList() {
    std::string s = "[";
    for (auto v : kVersions) {
        if (s.size() > 1) s += ' ';
        s += v;
    }
    return s + "]";
}
} // namespace

std::span<const std::string_view> supportedVersions() {
    return kVersions;
}

bool isSupported(std::string_view v) {
    for (auto s : kVersions)
        if (s == v) return true;
    return false;
}

int compareVersions(std::string_view a, std::string_view b) {
    auto pa = parseSemver(a), pb = parseSemver(b);
    return pa < pb ? -1 : (pa > pb ? 1 : 0);
}

Status requireSupported(std::string_view v) {
    if (isSupported(v)) return {};
    return fail(Code::IncompatibleVersion, "incompatible CNI versions",
                "config is \"" + std::string(v) + "\", plugin supports " + versionList());
}

Status requireCommandAllowed(std::string_view command, std::string_view v) {
    if (command == "CHECK" && compareVersions(v, "0.4.0") < 0)
        return fail(Code::IncompatibleVersion, "config version does not allow CHECK",
                    "config is \"" + std::string(v) + "\", CHECK needs 0.4.0 or later");
    if ((command == "GC" || command == "STATUS") && compareVersions(v, "1.1.0") < 0)
        return fail(Code::IncompatibleVersion,
                    "config version does not allow " + std::string(command),
                    "config is \"" + std::string(v) + "\", " + std::string(command) +
                        " needs 1.1.0 or later");
    return {};
}

} // namespace tether::cni
