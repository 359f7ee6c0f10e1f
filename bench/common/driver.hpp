// Small helpers the benchmark drivers share: text substitution in a template, a label turned into
// something usable in paths and container IDs, and counting the lines a shell command prints (the
// size of a ruleset, the links left behind).
#pragma once

#include <cctype>
#include <cstdio>
#include <string>

namespace tether::bench {

/// `s` with every occurrence of `from` replaced by `to` (left to right, replacements not
/// rescanned).
inline std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
        s.replace(p, from.size(), to);
    return s;
}

/// `label` with every character other than a letter or digit replaced by '-' (labels such as
/// "reference 1.6" carry spaces; container IDs and paths must not).
inline std::string slug(const std::string& label) {
    std::string s = label;
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
    return s;
}

/// The number of lines `/bin/sh -c cmd` prints on stdout (0 when it cannot be started).
inline size_t lineCount(const std::string& cmd) {
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return 0;
    size_t n = 0;
    for (int c; (c = fgetc(f)) != EOF;)
        n += c == '\n';
    pclose(f);
    return n;
}

} // namespace tether::bench
