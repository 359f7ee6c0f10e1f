// Registration of the `tether` CLI's subcommand groups. Each area owns its commands; main.cpp
// only assembles them. A command reports failure by throwing CLI::RuntimeError(exitCode) after
// printing its message to stderr.
#pragma once

namespace CLI {
class App;
}

namespace tether::rt {
/// `tether net ...` and `tether netns ...` (runtime/net/).
void addNetCommands(CLI::App& app);
/// `tether run|ps|inspect|exec|kill|pause|resume|rm|gc` (runtime/launcher/).
void addLauncherCommands(CLI::App& app);
} // namespace tether::rt

namespace tether::fixture {
/// `tether fixture up|exec|ls|down|gc` (netns-fixtures/).
void addFixtureCommands(CLI::App& app);
} // namespace tether::fixture
