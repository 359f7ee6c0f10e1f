#include "runtime/launcher/cli.hpp"

#include <algorithm>
#include <sstream>

namespace tether::rt::cli {
namespace {

std::vector<std::string> splitNames(const std::string& names) {
    std::vector<std::string> out;
    std::stringstream in(names);
    std::string n;
    while (std::getline(in, n, ','))
        if (!n.empty()) out.push_back(n);
    return out;
}

const Option* find(const Verb& verb, const std::string& name) {
    for (const auto& o : verb.options)
        for (const auto& n : splitNames(o.names))
            if (n == name) return &o;
    return nullptr;
}

size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min(
                {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

Status unknown(const Verb& verb, const std::string& flag) {
    std::vector<std::string> names;
    for (const auto& o : verb.options)
        for (const auto& n : splitNames(o.names))
            if (n.starts_with("--")) names.push_back(n);
    names.push_back("--help");
    std::string msg = "unknown flag: " + flag;
    if (auto near = closest(flag, names); !near.empty()) msg += " (did you mean " + near + "?)";
    msg += "\nSee 'tether " + verb.name + " --help'.";
    return fail(Code::InvalidConfig, msg);
}

Status apply(const Option& o, const std::string& shown, const std::string& value) {
    if (auto st = o.set(value); !st) {
        std::string m = st.error().msg;
        // Setters that do not name the flag get it prefixed.
        if (m.find(shown) == std::string::npos && m.find("--") == std::string::npos)
            m = shown + " " + value + ": " + m;
        return fail(Code::InvalidConfig, m);
    }
    return {};
}

} // namespace

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t bestD = 3;
    for (const auto& c : candidates) {
        size_t d = editDistance(word, c);
        if (d < bestD) {
            bestD = d;
            best = c;
        }
    }
    if (!best.empty()) return best;
    std::string prefixed;
    for (const auto& c : candidates)
        if (word.size() > 3 && c.starts_with(word)) {
            if (!prefixed.empty()) return {};
            prefixed = c;
        }
    return prefixed;
}

Expected<Parsed> parse(const Verb& verb, const std::vector<std::string>& args) {
    Parsed p;
    size_t i = 0;
    auto takeCommand = [&](size_t from) {
        p.command.assign(args.begin() + static_cast<long>(from), args.end());
        i = args.size();
    };
    while (i < args.size()) {
        const std::string& a = args[i];
        if (a == "--") {
            ++i;
            // The leading positionals may still follow "--" (exec -- ID CMD is unusual but
            // harmless); the rest is the command.
            while (p.positionals.size() < verb.leading && i < args.size())
                p.positionals.push_back(args[i++]);
            if (verb.command)
                takeCommand(i);
            else
                p.positionals.insert(p.positionals.end(), args.begin() + static_cast<long>(i),
                                     args.end());
            break;
        }
        if (a.size() < 2 || a[0] != '-') {
            if (verb.command && p.positionals.size() >= verb.leading) {
                takeCommand(i);
                break;
            }
            p.positionals.push_back(a);
            ++i;
            continue;
        }
        if (a == "--help" || a == "-h") {
            p.help = true;
            ++i;
            continue;
        }
        if (a.starts_with("--")) {
            auto eq = a.find('=');
            std::string name = a.substr(0, eq);
            const Option* o = find(verb, name);
            if (!o) return std::unexpected(unknown(verb, name).error());
            std::string value;
            if (o->value.empty()) {
                value = eq == std::string::npos ? "true" : a.substr(eq + 1);
                if (value != "true" && value != "false")
                    return fail(Code::InvalidConfig, "flag " + name + " takes no value (or " +
                                                         name + "=true|false), not " + value);
            } else if (eq != std::string::npos) {
                value = a.substr(eq + 1);
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                return fail(Code::InvalidConfig, "flag " + name + " needs a value (" + o->value +
                                                     ")\nSee 'tether " + verb.name + " --help'.");
            }
            TRY(apply(*o, name, value));
            ++i;
            continue;
        }
        // A cluster of short options: -it, -dit, -p8080:80, -e K=V.
        for (size_t k = 1; k < a.size(); ++k) {
            std::string name = std::string("-") + a[k];
            const Option* o = find(verb, name);
            if (!o) return std::unexpected(unknown(verb, k == 1 ? a : name).error());
            if (o->value.empty()) {
                TRY(apply(*o, name, "true"));
                continue;
            }
            std::string value;
            if (k + 1 < a.size())
                value = a.substr(k + 1);
            else if (i + 1 < args.size())
                value = args[++i];
            else
                return fail(Code::InvalidConfig, "flag " + name + " needs a value (" + o->value +
                                                     ")\nSee 'tether " + verb.name + " --help'.");
            TRY(apply(*o, name, value));
            break;
        }
        ++i;
    }
    return p;
}

std::string help(const Verb& verb) {
    std::string out = verb.summary + "\n\nUsage: tether " + verb.name + " " + verb.usage + "\n";
    if (!verb.options.empty()) out += "\nOptions:\n";
    for (const auto& o : verb.options) {
        std::string left = "  ";
        auto names = splitNames(o.names);
        if (names.size() == 1 && names[0].starts_with("--")) left += "    ";
        for (size_t k = 0; k < names.size(); ++k)
            left += (k ? ", " : "") + names[k];
        if (!o.value.empty()) left += " " + o.value;
        if (left.size() < 30)
            left.resize(30, ' ');
        else
            left += "\n" + std::string(30, ' ');
        out += left + o.help + "\n";
    }
    out += "  -h, --help                  This help\n";
    if (!verb.footer.empty()) out += "\n" + verb.footer + "\n";
    return out;
}

std::function<Status(const std::string&)> setString(std::string& out) {
    return [&out](const std::string& v) -> Status {
        out = v;
        return {};
    };
}

std::function<Status(const std::string&)> addString(std::vector<std::string>& out) {
    return [&out](const std::string& v) -> Status {
        out.push_back(v);
        return {};
    };
}

std::function<Status(const std::string&)> setFlag(bool& out) {
    return [&out](const std::string& v) -> Status {
        out = v == "true";
        return {};
    };
}

} // namespace tether::rt::cli
