// The launcher's verbs as command-line parsers (commands_run.cpp: run/create;
// commands_launcher.cpp: the rest and the dispatch table). Internal to runtime/launcher.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "runtime/launcher/cli.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {

/// Parses `run`/`create` arguments (after the verb) into RunOptions: every value checked by its
/// flag's parser (ports, volumes, env, numbers). Returns nullopt when --help was printed. Errors
/// are usage errors (exit 125).
Expected<std::optional<RunOptions>> parseRunArgs(const std::string& verb,
                                                 const std::vector<std::string>& args);

/// The `run` verb description (for --help and the verb list).
cli::Verb runVerbHelp(const std::string& verb);

/// "TERM", "SIGTERM", "15" -> 15; nullopt for anything else.
std::optional<int> parseSignalName(const std::string& s);

} // namespace tether::rt
