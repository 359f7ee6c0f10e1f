// RunOptions <-> state.json "config" (for create/start/restart).
#include "runtime/launcher/json_read.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {
namespace {
using nlohmann::json;

json nsToJson(const NsMode& m) {
    return {{"kind", static_cast<int>(m.kind)}, {"container", m.container}};
}

Expected<NsMode> nsFromJson(const JsonObjectReader& parent, const char* key) {
    auto r = TRY(parent.object(key));
    NsMode m;
    int kind = 0;
    TRY(r.read("kind", kind));
    if (kind < NsMode::Private || kind > NsMode::None)
        return std::unexpected(r.error("kind", "unknown namespace mode " + std::to_string(kind)));
    m.kind = static_cast<NsMode::Kind>(kind);
    TRY(r.read("container", m.container));
    return m;
}

template <class T> void putOpt(json& j, const char* key, const std::optional<T>& v) {
    if (v) j[key] = *v;
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

Expected<RunOptions> runOptionsFromJson(const json& j) {
    if (!j.is_object())
        return fail(Code::DecodeFailure,
                    std::string("key \"config\": expected an object, got ") + j.type_name());
    JsonObjectReader r(j, "config");
    RunOptions o;
    TRY(r.read("command", o.command));
    TRY(r.read("rootfs", o.rootfs));
    TRY(r.read("image", o.image));
    TRY(r.read("readOnly", o.readOnly));
    for (const auto& v : TRY(r.objects("volumes"))) {
        Volume vol;
        TRY(v.read("host", vol.host));
        TRY(v.read("container", vol.container));
        TRY(v.read("readOnly", vol.readOnly));
        o.volumes.push_back(std::move(vol));
    }
    TRY(r.read("hostname", o.hostname));
    TRY(r.read("env", o.env));
    TRY(r.read("workdir", o.workdir));
    TRY(r.read("user", o.user));
    TRY(r.read("uid", o.uid));
    TRY(r.read("gid", o.gid));
    TRY(r.read("capAdd", o.capAdd));
    TRY(r.read("capDrop", o.capDrop));
    TRY(r.read("seccomp", o.seccomp));
    TRY(r.read("seccompProfile", o.seccompProfile));
    TRY(r.read("seccompSource", o.seccompSource));
    TRY(r.read("init", o.init));
    TRY(r.read("userns", o.userns));
    auto lim = TRY(r.object("limits"));
    TRY(lim.read("memoryBytes", o.limits.memoryBytes));
    TRY(lim.read("memorySwapBytes", o.limits.memorySwapBytes));
    TRY(lim.read("pids", o.limits.pids));
    TRY(lim.read("cpus", o.limits.cpus));
    TRY(lim.read("cpuShares", o.limits.cpuShares));
    for (const auto& u : TRY(r.objects("ulimits"))) {
        Ulimit ul;
        TRY(u.read("resource", ul.resource));
        TRY(u.read("soft", ul.soft));
        TRY(u.read("hard", ul.hard));
        o.ulimits.push_back(ul);
    }
    for (const auto& d : TRY(r.objects("devices"))) {
        DeviceRequest dev;
        std::string type = "c";
        TRY(d.read("host", dev.hostPath));
        TRY(d.read("container", dev.containerPath));
        TRY(d.read("access", dev.access));
        TRY(d.read("type", type));
        TRY(d.read("major", dev.major));
        TRY(d.read("minor", dev.minor));
        dev.type = type == "b" ? 'b' : 'c';
        o.devices.push_back(std::move(dev));
    }
    TRY(r.read("networks", o.networks));
    o.net = TRY(nsFromJson(r, "net"));
    o.pid = TRY(nsFromJson(r, "pid"));
    o.ipc = TRY(nsFromJson(r, "ipc"));
    TRY(checkPortMappings(r, "portMappings"));
    TRY(r.readArray("portMappings", o.portMappings));
    TRY(r.read("tty", o.tty));
    TRY(r.read("interactive", o.interactive));
    TRY(r.read("rm", o.rm));
    TRY(r.read("stopSignal", o.stopSignal));
    TRY(r.read("stopTimeout", o.stopTimeout));
    TRY(r.read("dns", o.dns));
    TRY(r.read("dnsSearch", o.dnsSearch));
    TRY(r.read("dnsOption", o.dnsOption));
    json hosts;
    TRY(r.readArray("addHosts", hosts));
    for (size_t i = 0; i < hosts.size(); ++i) {
        const auto& h = hosts[i];
        if (!h.is_array() || h.size() != 2 || !h[0].is_string() || !h[1].is_string())
            return std::unexpected(r.error("addHosts", "element " + std::to_string(i) +
                                                           ": expected [\"NAME\", \"IP\"], got " +
                                                           h.dump()));
        o.addHosts.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
    TRY(r.read("ip", o.ip));
    TRY(r.read("mac", o.mac));
    TRY(r.read("logMaxBytes", o.logMaxBytes));
    return o;
}

} // namespace tether::rt
