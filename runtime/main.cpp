// tether: container networking and launching. See docs/runtime.md and docs/launcher.md.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/log.hpp"
#include "netns-fixtures/commands_fixture.hpp"
#include "runtime/commands.hpp"
#include "runtime/launcher/cli.hpp"

namespace {

/// Takes the global logging flags (--log-level L, --log-file P, or with '=') off the front of
/// argv, before the verb. Default level: warn, or TETHER_LOG_LEVEL when set. Lines go to the
/// file when one is given, else to stderr. Returns false (message printed) on a bad value.
bool takeLogFlags(std::vector<std::string>& args) {
    std::string level;
    std::string file;
    if (const char* env = std::getenv("TETHER_LOG_LEVEL"); env && *env) level = env;
    size_t i = 1;
    while (i < args.size()) {
        const std::string& a = args[i];
        std::string* target = nullptr;
        std::string name;
        for (const char* flag : {"--log-level", "--log-file"}) {
            std::string f = flag;
            if (a == f || a.starts_with(f + "=")) {
                name = f;
                target = f == "--log-level" ? &level : &file;
            }
        }
        if (!target) break;
        if (a.size() > name.size()) {
            *target = a.substr(name.size() + 1);
            args.erase(args.begin() + static_cast<long>(i));
        } else if (i + 1 < args.size()) {
            *target = args[i + 1];
            args.erase(args.begin() + static_cast<long>(i),
                       args.begin() + static_cast<long>(i) + 2);
        } else {
            std::fprintf(stderr, "tether: %s needs a value\n", name.c_str());
            return false;
        }
    }
    tether::log::Options o;
    o.stderrLevel = tether::log::Level::Warn;
    if (!level.empty()) {
        auto parsed = tether::log::parseLevel(level, "--log-level");
        if (!parsed) {
            std::fprintf(stderr, "tether: %s\n", parsed.error().msg.c_str());
            return false;
        }
        o.stderrLevel = *parsed;
    }
    if (!file.empty()) {
        o.file = file;
        o.fileLevel = o.stderrLevel;
        o.stderrLevel = tether::log::Level::Off;
    }
    if (auto st = tether::log::configure(o); !st) {
        std::fprintf(stderr, "tether: --log-file: %s\n", st.error().text().c_str());
        return false;
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    if (!takeLogFlags(args)) return tether::rt::cli::kUsageExit;
    std::vector<char*> argvNow;
    argvNow.reserve(args.size() + 1);
    for (auto& a : args)
        argvNow.push_back(a.data());
    argvNow.push_back(nullptr);
    argc = static_cast<int>(args.size());
    argv = argvNow.data();
    // The launcher's verbs first: their own parser, no CLI11 app built (start-up cost per run).
    if (argc > 1 && tether::rt::isLauncherVerb(argv[1]))
        return tether::rt::runLauncherVerb(std::vector<std::string>(argv + 1, argv + argc));
    CLI::App app{"tether: CNI network execution, container launcher and network test fixtures"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "tether 0.1.0");
    // Taken off argv by takeLogFlags() before parsing; declared here for --help.
    std::string unusedLevel, unusedFile;
    app.add_option("--log-level", unusedLevel,
                   "trace|debug|info|warn|error|off (default warn, or $TETHER_LOG_LEVEL)");
    app.add_option("--log-file", unusedFile, "append log lines to PATH instead of stderr");
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
