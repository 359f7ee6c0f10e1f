// Command line of `dhcp daemon` (Go flag package style, as the reference's).
#include <sys/un.h>

#include <cctype>
#include <cstdio>
#include <string_view>

#include "plugins/dhcp/daemon.hpp"

namespace tether::dhcp {

std::optional<int> parseDurationMs(const std::string& text) {
    if (text.empty()) return std::nullopt;
    size_t i = 0;
    double totalMs = 0;
    while (i < text.size()) {
        size_t start = i;
        while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
            ++i;
        if (i == start || i - start > 12) return std::nullopt;
        double v = 0;
        try {
            v = std::stod(text.substr(start, i - start));
        } catch (...) {
            return std::nullopt;
        }
        size_t u = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
            ++i;
        const std::string unit = text.substr(u, i - u);
        double scale = 0;
        if (unit == "s" || (unit.empty() && i == text.size() && start == 0))
            scale = 1000; // seconds, also bare
        else if (unit == "ms")
            scale = 1;
        else if (unit == "m")
            scale = 60'000;
        else if (unit == "h")
            scale = 3'600'000;
        else
            return std::nullopt;
        totalMs += v * scale;
    }
    if (totalMs < 1 || totalMs > 3'600'000) return std::nullopt;
    return int(totalMs);
}

Expected<DaemonOptions> parseDaemonArgs(int argc, char** argv) {
    DaemonOptions o;
    for (int i = 0; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a.size() < 2 || a[0] != '-')
            return fail(Code::InvalidConfig,
                        "dhcp daemon: unexpected argument \"" + std::string(a) + "\"");
        a.remove_prefix(a.starts_with("--") ? 2 : 1);
        std::string name(a), value;
        bool hasValue = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            hasValue = true;
        }
        if (name == "broadcast") {
            o.broadcast = !hasValue || value == "true" || value == "1";
            if (hasValue && !o.broadcast && value != "false" && value != "0")
                return fail(Code::InvalidConfig,
                            "dhcp daemon: -broadcast takes true or false, not \"" + value + "\"");
            continue;
        }
        if (name != "socketpath" && name != "hostprefix" && name != "timeout" &&
            name != "resendmax")
            return fail(Code::InvalidConfig, "dhcp daemon: unknown flag -" + name,
                        "flags: -socketpath P -hostprefix P -broadcast -timeout D -resendmax D");
        if (!hasValue) {
            if (i + 1 >= argc)
                return fail(Code::InvalidConfig, "dhcp daemon: -" + name + " needs a value");
            value = argv[++i];
        }
        if (name == "socketpath") {
            if (value.empty() || value.front() != '/' ||
                value.size() >= sizeof(sockaddr_un{}.sun_path))
                return fail(Code::InvalidConfig,
                            "dhcp daemon: -socketpath \"" + value +
                                "\" must be an absolute path of at most " +
                                std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
            o.socketPath = value;
        } else if (name == "hostprefix") {
            o.hostPrefix = value;
        } else {
            auto ms = parseDurationMs(value);
            if (!ms)
                return fail(Code::InvalidConfig, "dhcp daemon: -" + name + " \"" + value +
                                                     "\" is not a duration of 1ms..1h (e.g. 10s)");
            (name == "timeout" ? o.timeoutMs : o.resendMaxMs) = *ms;
        }
    }
    return o;
}

int daemonMain(int argc, char** argv) {
    auto opts = parseDaemonArgs(argc, argv);
    if (!opts) {
        std::fprintf(stderr, "%s\n", opts.error().msg.c_str());
        if (!opts.error().details.empty())
            std::fprintf(stderr, "%s\n", opts.error().details.c_str());
        return 2;
    }
    auto st = runDaemon(*opts);
    if (!st) {
        std::fprintf(stderr, "dhcp daemon: %s\n", st.error().msg.c_str());
        return 1;
    }
    return 0;
}

} // namespace tether::dhcp
