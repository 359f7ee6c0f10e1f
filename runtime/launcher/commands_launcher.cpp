#include <CLI/CLI.hpp>

#include "runtime/commands.hpp"

namespace tether::rt {
void addLauncherCommands(CLI::App&) {}
} // namespace tether::rt
