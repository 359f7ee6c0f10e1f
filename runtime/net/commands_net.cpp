#include <CLI/CLI.hpp>

#include "runtime/commands.hpp"

namespace tether::rt {
void addNetCommands(CLI::App&) {}
} // namespace tether::rt
