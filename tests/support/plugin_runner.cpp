#include "tests/support/plugin_runner.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

#include "cni/invoke.hpp"

namespace tether::test {

PluginRun runPlugin(const std::string& binary, const std::string& command,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    const std::string& stdinData) {
    cni::ExecRequest req;
    req.pluginPath = binary;
    req.inheritEnv = false;
    if (const char* path = std::getenv("PATH")) req.env.emplace_back("PATH", path);
    if (!command.empty()) req.env.emplace_back("CNI_COMMAND", command);
    for (const auto& kv : env)
        req.env.push_back(kv);
    req.stdinData = stdinData;
    auto raw = cni::execPluginRaw(req);
    if (!raw) FAIL("running " << binary << " " << command << ": " << raw.error().text());
    PluginRun run{raw->exitCode, std::move(raw->out), std::move(raw->err), std::nullopt};
    auto j = nlohmann::json::parse(run.out, nullptr, false);
    if (!j.is_discarded()) run.json = std::move(j);
    return run;
}

} // namespace tether::test
