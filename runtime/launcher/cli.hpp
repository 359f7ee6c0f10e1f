// The launcher's strict command-line parser (run, create, exec, stop, ...). Conventional rules,
// as podman's: options come before the first positional that starts the command; everything
// from there (or after `--`) belongs to the command untouched; an unknown option is an error
// naming it, with a suggestion when a known one is close. Usage errors exit 125.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace tether::rt::cli {

/// Exit status of a usage error (podman's).
constexpr int kUsageExit = 125;

/// One option. `names` is a comma-separated list ("-e,--env"); `value` names the argument in
/// help ("KEY=VALUE") and is empty for a flag. `set` receives the value ("true"/"false" for a
/// flag) and returns an error for a bad one (reported as a usage error).
struct Option {
    std::string names;
    std::string value;
    std::string help;
    std::function<Status(const std::string&)> set;
};

/// A verb: its options, how many leading positionals it takes before the command (exec: 1, the
/// container) and whether a command follows them (`command`); without a command, every
/// positional is collected in `positionals`.
struct Verb {
    std::string name;
    std::string usage;   ///< "[OPTIONS] ID..." (after "tether <name> ")
    std::string summary; ///< one line
    std::vector<Option> options;
    size_t leading = 0;
    bool command = false;
    std::string footer; ///< extra help text
};

struct Parsed {
    std::vector<std::string> positionals;
    std::vector<std::string> command;
    bool help = false;
};

/// Parses argv[1..] (argv[0] is the verb). Errors: "unknown flag: --memroy (did you mean
/// --memory?)", "flag --name needs a value", and the setters' own errors, all InvalidConfig.
Expected<Parsed> parse(const Verb& verb, const std::vector<std::string>& args);

/// `tether <verb> --help` text.
std::string help(const Verb& verb);

/// The closest of `candidates` to `word` when within edit distance 2 (or a unique prefix),
/// else empty.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

/// Setters for common option kinds.
std::function<Status(const std::string&)> setString(std::string& out);
std::function<Status(const std::string&)> addString(std::vector<std::string>& out);
std::function<Status(const std::string&)> setFlag(bool& out);

} // namespace tether::rt::cli
