#include "libcni/list_exec.hpp"

#include "base/error_list.hpp"
#include "base/log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "cni/args.hpp"
#include "cni/invoke.hpp"
#include "cni/json_limits.hpp"
#include "cni/version.hpp"

namespace tether::rt {

using nlohmann::json;

namespace {

std::string joinArgs(const std::vector<std::pair<std::string, std::string>>& args) {
    std::string s;
    for (const auto& [k, v] : args)
        s += (s.empty() ? "" : ";") + k + "=" + v;
    return s;
}

std::string pluginType(const json& plugin) {
    return plugin.at("type").get<std::string>();
}

Error pluginFailure(const Error& e, const json& plugin, const NetworkList& list, const char* op) {
    return e.wrap("plugin type=\"" + pluginType(plugin) + "\" name=\"" + list.name + "\" failed (" +
                  op + ")");
}

Expected<std::string> run(const std::string& command, const NetworkList& list, const json& plugin,
                          const RuntimeConf* rt, const ExecEnv& env, const json& stdinJson) {
    auto path = TRY(cni::findInPath(pluginType(plugin), env.cniPath));
    cni::ExecRequest req;
    req.pluginPath = std::move(path);
    req.env = {{"CNI_COMMAND", command}, {"CNI_PATH", env.cniPath}};
    if (rt) {
        req.env.emplace_back("CNI_CONTAINERID", rt->containerId);
        req.env.emplace_back("CNI_NETNS", rt->netns);
        req.env.emplace_back("CNI_IFNAME", rt->ifname);
        req.env.emplace_back("CNI_ARGS", joinArgs(rt->args));
    }
    // A caller logging at debug or finer asks the plugins for the same (unless the environment
    // names a level already: inherited as is).
    const char* envLevel = std::getenv("TETHER_LOG_LEVEL");
    if (log::enabled(log::Level::Debug) && !(envLevel && *envLevel)) {
        auto level = log::enabled(log::Level::Trace) ? log::Level::Trace : log::Level::Debug;
        req.env.emplace_back("TETHER_LOG_LEVEL", std::string(log::levelName(level)));
    }
    req.stdinData = stdinJson.dump();
    req.timeout = env.timeout;
    const bool logging = log::enabled(log::Level::Debug);
    auto start =
        logging ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    if (logging)
        log::debug("{} {} (network {}, container {}, ifname {}): {}", command, pluginType(plugin),
                   list.name, rt ? rt->containerId : "-", rt ? rt->ifname : "-", req.pluginPath);
    auto raw = TRY(cni::execPluginRaw(req));
    if (logging)
        log::debug(
            "{} {} exited {} after {:.2f} ms", command, pluginType(plugin), raw.exitCode,
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    if (!raw.err.empty()) {
        std::string prefix = "[" + list.name + "/" + pluginType(plugin) + "] ";
        std::string text = prefix + raw.err + (raw.err.back() == '\n' ? "" : "\n");
        (void)!::write(2, text.data(), text.size());
    }
    if (raw.exitCode == 0) return std::move(raw.out);
    auto j = cni::checkJsonText(raw.out, "") ? json::parse(raw.out, nullptr, false) : json();
    if (j.is_object() && j.contains("code") && j["code"].is_number_unsigned())
        return std::unexpected(
            Error{Code(j["code"].get<unsigned>()), j.value("msg", ""), j.value("details", ""), 0});
    // A plugin killed by a signal says nothing: name the signal (as libcni's "signal: killed").
    const std::string how =
        raw.exitCode > 128 ? " (killed by signal " + std::to_string(raw.exitCode - 128) + ")" : "";
    return fail(Code::Internal,
                raw.out.empty() ? (raw.err.empty() ? "netplugin failed with no error message" + how
                                                   : "netplugin failed: " + raw.err + how)
                                : "netplugin failed: " + raw.out + how);
}

Status validateAttachment(const NetworkList& list, const RuntimeConf& rt) {
    TRY(cni::validateContainerId(rt.containerId));
    TRY(cni::validateNetworkName(list.name));
    TRY(cni::validateIfName(rt.ifname));
    return {};
}

// The cached result converted to the list's version (libcni's GetAsVersion).
Expected<json> inListVersion(const NetworkList& list, const json& cached) {
    auto r = TRY(cni::parseResult(cached, list.cniVersion));
    return cni::toJson(r, list.cniVersion);
}

} // namespace

json pluginStdin(const NetworkList& list, const json& plugin, const RuntimeConf& rt,
                 const json* prevResult) {
    json conf = plugin;
    conf["name"] = list.name;
    conf["cniVersion"] = list.cniVersion;
    if (prevResult) conf["prevResult"] = *prevResult;
    json rc = json::object();
    if (auto caps = plugin.find("capabilities"); caps != plugin.end() && caps->is_object())
        for (const auto& [k, v] : caps->items())
            if (v == true && rt.capabilityArgs.is_object() && rt.capabilityArgs.contains(k))
                rc[k] = rt.capabilityArgs[k];
    if (!rc.empty()) conf["runtimeConfig"] = rc;
    return conf;
}

Expected<json> addList(const NetworkList& list, const RuntimeConf& rt, const ExecEnv& env) {
    TRY(validateAttachment(list, rt));
    std::optional<json> prev;
    for (const auto& plugin : list.plugins) {
        auto out = run("ADD", list, plugin, &rt, env,
                       pluginStdin(list, plugin, rt, prev ? &*prev : nullptr));
        if (!out) return std::unexpected(pluginFailure(out.error(), plugin, list, "add"));
        json r = cni::checkJsonText(*out, "") ? json::parse(*out, nullptr, false) : json();
        if (!r.is_object())
            return std::unexpected(pluginFailure(
                Error{Code::DecodeFailure, "result is not a JSON object", out->substr(0, 200), 0},
                plugin, list, "add"));
        if (!r.contains("cniVersion")) r["cniVersion"] = list.cniVersion;
        prev = std::move(r);
    }
    return prev.value_or(json::object());
}

Status delList(const NetworkList& list, const RuntimeConf& rt, const ExecEnv& env,
               const std::optional<json>& cached) {
    TRY(validateAttachment(list, rt));
    std::optional<json> prev;
    if (cached && cni::compareVersions(list.cniVersion, "0.4.0") >= 0) {
        auto conv = inListVersion(list, *cached);
        if (conv) prev = std::move(*conv);
    }
    ErrorList errors; // every plugin's DEL runs, whatever failed before it
    for (auto it = list.plugins.rbegin(); it != list.plugins.rend(); ++it) {
        auto out =
            run("DEL", list, *it, &rt, env, pluginStdin(list, *it, rt, prev ? &*prev : nullptr));
        if (!out) errors.add(pluginFailure(out.error(), *it, list, "delete"));
    }
    return errors.result();
}

Status checkList(const NetworkList& list, const RuntimeConf& rt, const ExecEnv& env,
                 const json& cached) {
    if (cni::compareVersions(list.cniVersion, "0.4.0") < 0)
        return fail(Code::IncompatibleVersion, "configuration version \"" + list.cniVersion +
                                                   "\" does not support the CHECK command");
    if (list.disableCheck) return {};
    TRY(validateAttachment(list, rt));
    json prev = TRY(inListVersion(list, cached));
    for (const auto& plugin : list.plugins) {
        auto out = run("CHECK", list, plugin, &rt, env, pluginStdin(list, plugin, rt, &prev));
        if (!out) return std::unexpected(pluginFailure(out.error(), plugin, list, "check"));
    }
    return {};
}

Status statusList(const NetworkList& list, const ExecEnv& env) {
    if (cni::compareVersions(list.cniVersion, "1.1.0") < 0) return {};
    for (const auto& plugin : list.plugins) {
        json conf = plugin;
        conf["name"] = list.name;
        conf["cniVersion"] = list.cniVersion;
        auto out = run("STATUS", list, plugin, nullptr, env, conf);
        if (!out) return std::unexpected(pluginFailure(out.error(), plugin, list, "status"));
    }
    return {};
}

Status gcPlugins(const NetworkList& list, const ExecEnv& env,
                 const std::vector<std::pair<std::string, std::string>>& valid) {
    if (list.disableGC || cni::compareVersions(list.cniVersion, "1.1.0") < 0) return {};
    json attachments = json::array();
    for (const auto& [cid, ifname] : valid)
        attachments.push_back({{"containerID", cid}, {"ifname", ifname}});
    ErrorList errors;
    for (const auto& plugin : list.plugins) {
        json conf = plugin;
        conf["name"] = list.name;
        conf["cniVersion"] = list.cniVersion;
        conf["cni.dev/valid-attachments"] = attachments;
        conf["cni.dev/attachments"] = attachments;
        auto out = run("GC", list, plugin, nullptr, env, conf);
        if (!out) errors.add(pluginFailure(out.error(), plugin, list, "gc"));
    }
    return errors.result();
}

Expected<std::vector<std::string>> pluginSupportedVersions(const NetworkList& list,
                                                           const json& plugin, const ExecEnv& env) {
    auto out = TRY(run("VERSION", list, plugin, nullptr, env, {{"cniVersion", list.cniVersion}}));
    auto j = cni::checkJsonText(out, "") ? json::parse(out, nullptr, false) : json();
    const json* versions =
        j.is_object() && j.contains("supportedVersions") ? &j["supportedVersions"] : nullptr;
    if (!versions || !versions->is_array())
        return fail(Code::DecodeFailure,
                    "plugin " + pluginType(plugin) + ": VERSION answer has no supportedVersions");
    std::vector<std::string> result;
    for (const auto& v : *versions) {
        if (!v.is_string())
            return fail(Code::DecodeFailure,
                        "plugin " + pluginType(plugin) + ": supportedVersions holds a non-string");
        result.push_back(v.get<std::string>());
    }
    return result;
}

} // namespace tether::rt
