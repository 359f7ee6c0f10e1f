#include "libcni/netconf.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "base/file.hpp"
#include "cni/args.hpp"
#include "cni/json_limits.hpp"
#include "cni/version.hpp"

namespace tether::rt {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A config file: a regular file of at most 4 MiB (the plugins' stdin cap), never a FIFO.
Expected<std::string> readFile(const fs::path& p) {
    auto bytes = TRY(readRegularFile(p.string(), "read", {.maxBytes = 4 << 20}));
    return std::move(bytes).value_or(std::string()); // never empty: missingOk is off
}

Expected<json> parseJson(const std::string& bytes, const std::string& file) {
    TRY(cni::checkJsonText(bytes, file));
    try {
        json j = json::parse(bytes);
        if (!j.is_object()) return fail(Code::DecodeFailure, file + ": not a JSON object");
        return j;
    } catch (const json::parse_error& e) {
        return fail(Code::DecodeFailure, file + ": parse error at byte " + std::to_string(e.byte),
                    e.what());
    } catch (const json::exception& e) {
        // The parser also throws out_of_range (406) for a number that overflows a double, e.g.
        // 1e999: uncaught, it aborted the runtime (found by fuzz_conflist).
        return fail(Code::DecodeFailure, file + ": invalid JSON", e.what());
    }
}

// libcni accepts booleans and the strings "true"/"false".
Expected<bool> readBool(const json& j, const char* key, const std::string& file) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return false;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_string()) {
        std::string s = it->get<std::string>();
        // tolower() of a negative char (any byte >= 0x80 in the value) is undefined behaviour.
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (s == "true") return true;
        if (s == "false") return false;
    }
    return fail(Code::InvalidConfig, file + ": " + key + " must be a boolean");
}

// The highest of cniVersion ∪ cniVersions that we support (entries above 1.1.0 are dropped).
Expected<std::string> negotiateVersion(const json& j, const std::string& file) {
    std::vector<std::string> candidates;
    if (auto it = j.find("cniVersion"); it != j.end() && it->is_string())
        candidates.push_back(it->get<std::string>());
    if (auto it = j.find("cniVersions"); it != j.end()) {
        if (!it->is_array())
            return fail(Code::InvalidConfig, file + ": cniVersions must be a list");
        for (const auto& v : *it)
            if (v.is_string()) candidates.push_back(v.get<std::string>());
    }
    std::string best;
    for (const auto& v : candidates) {
        // Only versions we implement: "0.0.0", "0.5.0" or "x" would otherwise be chosen (they
        // compare <= 1.1.0) and handed to every plugin (found by fuzz_conflist).
        if (!cni::isSupported(v)) continue;
        if (best.empty() || cni::compareVersions(v, best) > 0) best = v;
    }
    if (best.empty())
        return fail(Code::InvalidConfig, file + ": no cniVersion this runtime supports (up to " +
                                             std::string(cni::kCurrentVersion) + ")");
    return best;
}

Status validatePlugin(const json& p, const std::string& file, size_t i) {
    std::string where = file + ": plugins[" + std::to_string(i) + "]";
    if (!p.is_object()) return fail(Code::InvalidConfig, where + " must be an object");
    auto t = p.find("type");
    if (t == p.end() || !t->is_string() || t->get<std::string>().empty())
        return fail(Code::InvalidConfig, where + ": missing plugin type");
    if (auto st = cni::validatePluginType(t->get<std::string>()); !st)
        return fail(Code::InvalidConfig,
                    where + ": unsafe plugin type \"" + t->get<std::string>() + "\"",
                    st.error().msg);
    return {};
}

} // namespace

Expected<NetworkList> parseNetworkList(const std::string& bytes, const std::string& file) {
    json j = TRY(parseJson(bytes, file));
    NetworkList l;
    l.file = file;
    l.bytes = bytes;
    auto name = j.find("name");
    if (name == j.end() || !name->is_string())
        return fail(Code::InvalidConfig, file + ": missing network name");
    l.name = name->get<std::string>();
    if (auto st = cni::validateNetworkName(l.name); !st)
        return fail(Code::InvalidConfig, file + ": invalid network name \"" + l.name + "\"");
    l.cniVersion = TRY(negotiateVersion(j, file));
    l.disableCheck = TRY(readBool(j, "disableCheck", file));
    l.disableGC = TRY(readBool(j, "disableGC", file));
    auto plugins = j.find("plugins");
    if (plugins == j.end() || !plugins->is_array() || plugins->empty())
        return fail(Code::InvalidConfig, file + ": no plugins in network " + l.name);
    for (size_t i = 0; i < plugins->size(); ++i) {
        TRY(validatePlugin((*plugins)[i], file, i));
        l.plugins.push_back((*plugins)[i]);
    }
    return l;
}

Expected<NetworkList> parseLegacyConf(const std::string& bytes, const std::string& file) {
    json j = TRY(parseJson(bytes, file));
    if (j.contains("plugins"))
        return fail(Code::InvalidConfig, file + ": a .conf file must hold one plugin, not a list");
    // j.value("name", "") would throw (and abort the runtime) on a non-string name; copy the key
    // as written and let parseNetworkList name the problem (corpus conflist/legacy-name-int.conf).
    json list = {{"plugins", json::array({j})}};
    if (j.contains("name")) list["name"] = j["name"];
    if (j.contains("cniVersion"))
        list["cniVersion"] = j["cniVersion"];
    else
        list["cniVersion"] = "0.1.0";
    if (j.contains("disableCheck")) list["disableCheck"] = j["disableCheck"];
    return parseNetworkList(list.dump(), file);
}

std::vector<NetworkList> loadNetworks(const std::string& dir, std::vector<std::string>* problems) {
    std::vector<NetworkList> out;
    std::error_code ec;
    std::vector<fs::path> lists, legacy;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_regular_file(ec)) continue;
        auto ext = e.path().extension().string();
        if (ext == ".conflist")
            lists.push_back(e.path());
        else if (ext == ".conf" || ext == ".json")
            legacy.push_back(e.path());
    }
    std::sort(lists.begin(), lists.end());
    std::sort(legacy.begin(), legacy.end());
    auto add = [&](const fs::path& p, bool isList) {
        auto bytes = readFile(p);
        auto l = bytes ? (isList ? parseNetworkList(*bytes, p.string())
                                 : parseLegacyConf(*bytes, p.string()))
                       : Expected<NetworkList>(std::unexpected(bytes.error()));
        if (!l) {
            if (problems) problems->push_back(l.error().text());
            return;
        }
        for (const auto& seen : out)
            if (seen.name == l->name) {
                if (problems)
                    problems->push_back("duplicate network name \"" + l->name + "\" in " +
                                        p.string() + " (already defined in " + seen.file + ")");
                return;
            }
        out.push_back(std::move(*l));
    };
    for (const auto& p : lists)
        add(p, true);
    for (const auto& p : legacy)
        add(p, false);
    return out;
}

Expected<NetworkList> findNetwork(const std::string& dir, const std::string& name) {
    std::vector<std::string> problems;
    auto all = loadNetworks(dir, &problems);
    for (auto& l : all) {
        if (l.name != name) continue;
        json j = json::parse(l.bytes, nullptr, false);
        bool inlinedOnly = j.is_object() && j.value("loadOnlyInlinedPlugins", false) == true;
        if (!inlinedOnly) {
            std::vector<fs::path> extra;
            std::error_code ec;
            for (const auto& e : fs::directory_iterator(fs::path(dir) / name, ec))
                if (e.path().extension() == ".conf") extra.push_back(e.path());
            std::sort(extra.begin(), extra.end());
            for (const auto& p : extra) {
                auto bytes = TRY(readFile(p));
                json pj = TRY(parseJson(bytes, p.string()));
                TRY(validatePlugin(pj, p.string(), l.plugins.size()));
                l.plugins.push_back(pj);
            }
        }
        return std::move(l);
    }
    std::string known;
    for (const auto& l : all)
        known += (known.empty() ? "" : ", ") + l.name;
    std::string msg = "network \"" + name + "\" not found in " + dir;
    std::string details = known.empty() ? "no networks configured" : "networks: " + known;
    for (const auto& p : problems)
        details += "; " + p;
    return fail(Code::InvalidConfig, msg, details);
}

} // namespace tether::rt
