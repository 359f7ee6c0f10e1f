// Registration of the `tether` CLI's subcommand groups. Each area owns its commands; main.cpp
// only assembles them. A command reports failure by throwing CLI::RuntimeError(exitCode) after
// printing its message to stderr.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace tether::rt {
/// `tether net ...` and `tether netns ...` (runtime/net/).
void addNetCommands(CLI::App& app);
/// True when `verb` is one of the launcher's verbs (run, create, start, stop, ps, ...), which
/// are parsed by the launcher's own strict parser (runtime/launcher/cli.hpp), not CLI11.
bool isLauncherVerb(const std::string& verb);
/// The launcher's verb names (for "did you mean").
std::vector<std::string> launcherVerbs();
/// The verb list shown by `tether --help`.
std::string launcherVerbHelp();
/// Runs launcher verb args[0] with args[1..]; returns the exit status (125: usage or setup
/// error, as podman).
int runLauncherVerb(const std::vector<std::string>& args);
} // namespace tether::rt
