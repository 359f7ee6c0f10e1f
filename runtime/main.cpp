// tether: container networking and launching. See docs/runtime.md and docs/launcher.md.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/commands.hpp"
#include "runtime/launcher/cli.hpp"

int main(int argc, char** argv) {
    // The launcher's verbs first: their own parser, no CLI11 app built (start-up cost per run).
    if (argc > 1 && tether::rt::isLauncherVerb(argv[1]))
        return tether::rt::runLauncherVerb(std::vector<std::string>(argv + 1, argv + argc));
    CLI::App app{"tether: CNI network execution, container launcher and network test fixtures"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "tether 0.1.0");
    tether::rt::addNetCommands(app);
    tether::fixture::addFixtureCommands(app);
    // After the subcommands: CLI11 copies a parent's footer into every subcommand added later, and
    // the launcher verb list belongs on the top-level help only.
    app.footer(tether::rt::launcherVerbHelp() +
               "Run 'tether VERB --help' for a verb's options (docs/launcher.md).");
    if (argc > 1 && argv[1][0] != '-') {
        std::vector<std::string> known = tether::rt::launcherVerbs();
        bool found = false;
        for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
            known.push_back(sub->get_name());
            found |= sub->get_name() == argv[1];
        }
        if (!found) {
            std::string near = tether::rt::cli::closest(argv[1], known);
            std::fprintf(stderr, "tether: unknown command \"%s\"%s\nRun 'tether --help'.\n",
                         argv[1], near.empty() ? "" : (" (did you mean " + near + "?)").c_str());
            return tether::rt::cli::kUsageExit;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) {
        return e.get_exit_code(); // a command failed and already said why
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2; // usage errors of the net/fixture verbs exit 2
    }
    return 0;
}
