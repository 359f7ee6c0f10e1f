#include <CLI/CLI.hpp>

#include "runtime/commands.hpp"

namespace tether::fixture {
void addFixtureCommands(CLI::App&) {}
} // namespace tether::fixture
