// tether: container networking and launching. See docs/runtime.md and docs/launcher.md.
#include <CLI/CLI.hpp>

#include "runtime/commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"tether: CNI network execution, container launcher and network test fixtures"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "tether 0.1.0");
    tether::rt::addNetCommands(app);
    tether::rt::addLauncherCommands(app);
    tether::fixture::addFixtureCommands(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) {
        return e.get_exit_code(); // a command failed and already said why
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2; // usage errors exit 2
    }
    return 0;
}
