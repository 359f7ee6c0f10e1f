// Parsing and validation of the tuning config; nothing here touches the kernel.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

#include "cni/args.hpp"
#include "cni/conf_fields.hpp"
#include "cni/json_fields.hpp"
#include "libnet/link.hpp"
#include "plugins/tuning/tuning.hpp"

namespace tether::tuning {

using nlohmann::json;
namespace fields = cni::fields;

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// Walks the raw config and records the first key repeated inside a "sysctl" object (top level
// or args.cni): a parsed json object keeps only the last one, the reference refuses them.
class DuplicateFinder : public json::json_sax_t {
  public:
    std::string duplicate;

    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool string(string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool start_object(std::size_t) override {
        frames_.push_back({childPath(), {}, {}});
        return true;
    }
    bool key(string_t& k) override {
        Frame& f = frames_.back();
        f.pending = lower(k);
        bool watched = f.path == "/sysctl" || f.path == "/args/cni/sysctl";
        if (watched && !f.keys.insert(k).second && duplicate.empty()) duplicate = k;
        return true;
    }
    bool end_object() override {
        frames_.pop_back();
        return value();
    }
    bool start_array(std::size_t) override {
        frames_.push_back({childPath() + "[]", {}, {}});
        return true;
    }
    bool end_array() override {
        frames_.pop_back();
        return value();
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

  private:
    struct Frame {
        std::string path;
        std::set<std::string> keys;
        std::string pending;
    };
    std::string childPath() const {
        if (frames_.empty()) return "";
        return frames_.back().path + "/" + frames_.back().pending;
    }
    bool value() { return true; }
    std::vector<Frame> frames_;
};

Status refuseDuplicateKeys(const std::string& raw) {
    DuplicateFinder finder;
    json::sax_parse(raw, &finder, json::input_format_t::json, false);
    if (!finder.duplicate.empty())
        return fail(Code::InvalidConfig,
                    "duplicated sysctl key \"" + finder.duplicate + "\" is not allowed");
    return {};
}

// "net.ipv4.conf.IFNAME.arp_filter" -> "net/ipv4/conf/eth0/arp_filter". Keys with '/' are taken
// as paths as they are, so interface names with dots can be written.
Expected<std::string> sysctlPath(const std::string& key, const std::string& ifname) {
    std::string path = key;
    if (path.find('/') == std::string::npos) std::replace(path.begin(), path.end(), '.', '/');
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = std::min(path.find('/', start), path.size());
        parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    bool substituted = false;
    std::string out;
    for (auto& p : parts) {
        if (p == "IFNAME" && !substituted) {
            p = ifname;
            substituted = true;
        }
        if (p.empty() || p == "." || p == ".." || p.find('\0') != std::string::npos)
            return fail(Code::InvalidConfig, "invalid net sysctl key \"" + key + "\"");
        out += (out.empty() ? "" : "/") + p;
    }
    if (parts.size() < 2 || parts[0] != "net")
        return fail(Code::InvalidConfig,
                    "invalid net sysctl key \"" + key + "\": only net.* sysctls may be set");
    return out;
}

// Adds the sysctls of `obj` (a string map at `where`); a later entry for the same path replaces
// an earlier one from another map, two in the same map are an error.
Status addSysctls(Config& c, const json& obj, const std::string& where, const std::string& ifname) {
    if (!obj.is_object()) return fields::typeError(where, "an object");
    std::set<std::string> seen;
    for (const auto& [k, v] : obj.items()) {
        if (!v.is_string()) return fields::typeError(where + "." + k, "a string");
        std::string path = TRY(sysctlPath(k, ifname));
        if (!seen.insert(path).second)
            return fail(Code::InvalidConfig, "sysctl key \"" + k + "\" names " + path +
                                                 " which another key of " + where + " sets");
        auto same = std::find_if(c.sysctls.begin(), c.sysctls.end(),
                                 [&](const Sysctl& s) { return s.path == path; });
        if (same != c.sysctls.end()) c.sysctls.erase(same);
        c.sysctls.push_back({k, path, v.get<std::string>()});
    }
    return {};
}

Expected<std::string> macField(const std::string& value, const std::string& where) {
    auto bytes = net::parseMac(value);
    if (!bytes)
        return fail(Code::InvalidConfig, "invalid MAC address \"" + value + "\" in " + where);
    return net::formatMac(bytes->data(), bytes->size());
}

// The link keys of `obj` (the top level or args.cni), each one overriding what is set.
Status linkKeys(Config& c, const json& obj, const std::string& prefix) {
    auto label = [&](const char* k) { return prefix.empty() ? std::string(k) : prefix + "." + k; };
    if (auto mac = TRY(fields::optString(obj, "mac", prefix)); mac && !mac->empty())
        c.mac = TRY(macField(*mac, label("mac")));
    if (fields::get(obj, "promisc")) c.promisc = TRY(cni::fields::boolField(obj, "promisc"));
    if (fields::get(obj, "mtu")) {
        auto mtu = TRY(cni::fields::intField(obj, "mtu", 0, 0, 65535));
        if (mtu > 0 && mtu < 68)
            return fail(Code::InvalidConfig,
                        "invalid " + label("mtu") + " " + std::to_string(mtu) + ": below 68");
        c.mtu = mtu ? std::optional<uint32_t>(uint32_t(mtu)) : std::nullopt;
    }
    if (fields::get(obj, "txQLen"))
        c.txQLen = uint32_t(TRY(cni::fields::intField(obj, "txQLen", 0, 0, 4294967295LL)));
    if (fields::get(obj, "allmulti")) c.allmulti = TRY(cni::fields::boolField(obj, "allmulti"));
    return {};
}

} // namespace

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const json& raw = args.conf.raw;
    Config c;
    TRY(refuseDuplicateKeys(args.stdinData));
    if (auto dir = TRY(fields::optString(raw, "dataDir", "")); dir && !dir->empty()) {
        if ((*dir)[0] != '/')
            return fail(Code::InvalidConfig, "dataDir \"" + *dir + "\" must be an absolute path");
        c.dataDir = *dir;
    }
    if (const json* s = fields::get(raw, "sysctl")) TRY(addSysctls(c, *s, "sysctl", args.ifname));
    TRY(linkKeys(c, raw, ""));
    auto pairs = TRY(cni::parseCniArgs(args.args, {"MAC"}));
    if (const std::string* mac = cni::findArg(pairs, "MAC"); mac && !mac->empty())
        c.mac = TRY(macField(*mac, "CNI_ARGS MAC"));
    if (const json* rc = fields::get(args.conf.runtimeConfig, "mac")) {
        if (!rc->is_string()) return fields::typeError("runtimeConfig.mac", "a string");
        if (!rc->get<std::string>().empty())
            c.mac = TRY(macField(rc->get<std::string>(), "runtimeConfig.mac"));
    }
    const json* cniArgs = TRY(fields::optObject(args.conf.args, "cni", "args"));
    if (cniArgs) {
        if (const json* s = fields::get(*cniArgs, "sysctl"))
            TRY(addSysctls(c, *s, "args.cni.sysctl", args.ifname));
        TRY(linkKeys(c, *cniArgs, "args.cni"));
    }
    return c;
}

Status checkAllowlist(const Config& c) {
    const char* env = std::getenv(kAllowlistEnv);
    std::string file = env && *env ? env : "/etc/cni/tuning/allowlist.conf";
    std::ifstream in(file);
    if (!in) return {}; // no allowlist: every net.* sysctl is allowed
    std::vector<std::pair<std::string, std::regex>> allowed;
    for (std::string line; std::getline(in, line);) {
        auto b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
        if (b == std::string::npos) continue;
        line = line.substr(b, e - b + 1);
        try {
            allowed.emplace_back(line, std::regex(line, std::regex::ECMAScript));
        } catch (const std::regex_error&) {
            return fail(Code::InvalidConfig,
                        "invalid regular expression \"" + line + "\" in " + file);
        }
    }
    for (const auto& s : c.sysctls) {
        bool ok = std::any_of(allowed.begin(), allowed.end(),
                              [&](const auto& a) { return std::regex_search(s.key, a.second); });
        if (ok) continue;
        std::string list;
        for (const auto& a : allowed)
            list += (list.empty() ? "" : " ") + a.first;
        return fail(Code::InvalidConfig, "sysctl " + s.key +
                                             " is not allowed. Only the following sysctls are "
                                             "allowed: [" +
                                             list + "]");
    }
    return {};
}

std::string backupPath(const std::string& dataDir, const std::string& containerId,
                       const std::string& ifname) {
    return dataDir + "/" + containerId + "_" + ifname + ".json";
}

} // namespace tether::tuning
