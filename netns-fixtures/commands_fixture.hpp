// Registration of `tether fixture up|exec|ls|down|gc` on the CLI (runtime/main.cpp adds it).
#pragma once

namespace CLI {
class App;
}

namespace tether::fixture {
/// Adds the `fixture` subcommand group to `app`. A command reports failure by throwing
/// CLI::RuntimeError(exitCode) after printing its message to stderr.
void addFixtureCommands(CLI::App& app);
} // namespace tether::fixture
