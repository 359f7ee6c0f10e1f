// RunOptions <-> state.json "config" (for create/start/restart).
#include "runtime/launcher/options.hpp"

namespace tether::rt {
namespace {
using nlohmann::json;

json nsToJson(const NsMode& m) {
    return {{"kind", static_cast<int>(m.kind)}, {"container", m.container}};
}

NsMode nsFromJson(const json& j) {
    NsMode m;
    m.kind = static_cast<NsMode::Kind>(j.value("kind", 0));
    m.container = j.value("container", "");
    return m;
}

template <class T> void putOpt(json& j, const char* key, const std::optional<T>& v) {
    if (v) j[key] = *v;
}
template <class T> void getOpt(const json& j, const char* key, std::optional<T>& v) {
    if (j.contains(key) && !j[key].is_null()) v = j[key].get<T>();
}
} // namespace

json runOptionsToJson(const RunOptions& o) {
    json vols = json::array(), ulimits = json::array(), hosts = json::array(), lim;
    for (const auto& v : o.volumes)
        vols.push_back({{"host", v.host}, {"container", v.container}, {"readOnly", v.readOnly}});
    for (const auto& u : o.ulimits)
        ulimits.push_back({{"resource", u.resource}, {"soft", u.soft}, {"hard", u.hard}});
    json devs = json::array();
    for (const auto& d : o.devices)
        devs.push_back({{"host", d.hostPath},
                        {"container", d.containerPath},
                        {"access", d.access},
                        {"type", std::string(1, d.type)},
                        {"major", d.major},
                        {"minor", d.minor}});
    for (const auto& [n, a] : o.addHosts)
        hosts.push_back({n, a});
    lim = json::object();
    putOpt(lim, "memoryBytes", o.limits.memoryBytes);
    putOpt(lim, "memorySwapBytes", o.limits.memorySwapBytes);
    putOpt(lim, "pids", o.limits.pids);
    putOpt(lim, "cpus", o.limits.cpus);
    putOpt(lim, "cpuShares", o.limits.cpuShares);
    return {{"command", o.command},
            {"rootfs", o.rootfs},
            {"image", o.image},
            {"readOnly", o.readOnly},
            {"volumes", vols},
            {"hostname", o.hostname},
            {"env", o.env},
            {"workdir", o.workdir},
            {"user", o.user},
            {"uid", o.uid},
            {"gid", o.gid},
            {"capAdd", o.capAdd},
            {"capDrop", o.capDrop},
            {"seccomp", o.seccomp},
            {"seccompProfile", o.seccompProfile},
            {"seccompSource", o.seccompSource},
            {"init", o.init},
            {"userns", o.userns},
            {"limits", lim},
            {"ulimits", ulimits},
            {"devices", devs},
            {"networks", o.networks},
            {"net", nsToJson(o.net)},
            {"pid", nsToJson(o.pid)},
            {"ipc", nsToJson(o.ipc)},
            {"portMappings", o.portMappings},
            {"tty", o.tty},
            {"interactive", o.interactive},
            {"rm", o.rm},
            {"stopSignal", o.stopSignal},
            {"stopTimeout", o.stopTimeout},
            {"dns", o.dns},
            {"dnsSearch", o.dnsSearch},
            {"dnsOption", o.dnsOption},
            {"addHosts", hosts},
            {"ip", o.ip},
            {"mac", o.mac},
            {"logMaxBytes", o.logMaxBytes}};
}

RunOptions runOptionsFromJson(const json& j) {
    RunOptions o;
    using S = std::vector<std::string>;
    o.command = j.value("command", S{});
    o.rootfs = j.value("rootfs", "");
    o.image = j.value("image", "");
    o.readOnly = j.value("readOnly", false);
    for (const auto& v : j.value("volumes", json::array()))
        o.volumes.push_back(
            {v.value("host", ""), v.value("container", ""), v.value("readOnly", false)});
    o.hostname = j.value("hostname", "");
    o.env = j.value("env", S{});
    o.workdir = j.value("workdir", "/");
    o.user = j.value("user", "");
    o.uid = j.value("uid", 0u);
    o.gid = j.value("gid", 0u);
    o.capAdd = j.value("capAdd", S{});
    o.capDrop = j.value("capDrop", S{});
    o.seccomp = j.value("seccomp", true);
    o.seccompProfile = j.value("seccompProfile", std::string());
    o.seccompSource = j.value("seccompSource", std::string("default"));
    o.init = j.value("init", false);
    o.userns = j.value("userns", false);
    auto lim = j.value("limits", json::object());
    getOpt(lim, "memoryBytes", o.limits.memoryBytes);
    getOpt(lim, "memorySwapBytes", o.limits.memorySwapBytes);
    getOpt(lim, "pids", o.limits.pids);
    getOpt(lim, "cpus", o.limits.cpus);
    getOpt(lim, "cpuShares", o.limits.cpuShares);
    for (const auto& u : j.value("ulimits", json::array()))
        o.ulimits.push_back(
            {u.value("resource", 0), u.value("soft", uint64_t{0}), u.value("hard", uint64_t{0})});
    for (const auto& d : j.value("devices", json::array())) {
        DeviceRequest r;
        r.hostPath = d.value("host", "");
        r.containerPath = d.value("container", "");
        r.access = d.value("access", "rwm");
        r.type = d.value("type", "c") == "b" ? 'b' : 'c';
        r.major = d.value("major", 0u);
        r.minor = d.value("minor", 0u);
        o.devices.push_back(r);
    }
    o.networks = j.value("networks", S{});
    o.net = nsFromJson(j.value("net", json::object()));
    o.pid = nsFromJson(j.value("pid", json::object()));
    o.ipc = nsFromJson(j.value("ipc", json::object()));
    o.portMappings = j.value("portMappings", json::array());
    o.tty = j.value("tty", false);
    o.interactive = j.value("interactive", false);
    o.rm = j.value("rm", false);
    o.stopSignal = j.value("stopSignal", 15);
    o.stopTimeout = j.value("stopTimeout", 10);
    o.dns = j.value("dns", S{});
    o.dnsSearch = j.value("dnsSearch", S{});
    o.dnsOption = j.value("dnsOption", S{});
    for (const auto& h : j.value("addHosts", json::array()))
        if (h.is_array() && h.size() == 2) o.addHosts.emplace_back(h[0], h[1]);
    o.ip = j.value("ip", "");
    o.mac = j.value("mac", "");
    o.logMaxBytes = j.value("logMaxBytes", int64_t{8 << 20});
    return o;
}

} // namespace tether::rt
