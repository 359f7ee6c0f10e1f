// ContainerState <-> state.json: the one place that knows the file's keys (state.hpp).
#include <algorithm>
#include <array>

#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/json_read.hpp"
#include "runtime/launcher/state.hpp"

namespace tether::rt {

namespace {

using nlohmann::json;

/// Every key toJson writes; anything else read is kept in unknownKeys.
constexpr std::array kKnownKeys = {"id",
                                   "status",
                                   "command",
                                   "created",
                                   "detached",
                                   "seccomp",
                                   "userns",
                                   "hostname",
                                   "ports",
                                   "config",
                                   "seccompProfile",
                                   "supervisorPid",
                                   "caps",
                                   "user",
                                   "cgroup",
                                   "pid",
                                   "supervisorStartTime",
                                   "netns",
                                   "network",
                                   "startedAt",
                                   "finishedAt",
                                   "exitCode",
                                   "pidStartTime",
                                   "oomKilled"};

json networkToJson(const NetworkRecord& n) {
    json out = {
        {"networks", n.networks}, {"capabilityArgs", n.capabilityArgs}, {"cniArgs", n.cniArgs}};
    if (n.attached) {
        json list = json::array();
        for (const auto& a : *n.attached)
            list.push_back(
                {{"network", a.network}, {"ifname", a.ifname}, {"ips", a.ips}, {"mac", a.mac}});
        out["attached"] = list;
    }
    return out;
}

Expected<NetworkRecord> networkFromJson(const JsonObjectReader& r) {
    NetworkRecord n;
    TRY(r.read("networks", n.networks));
    TRY(r.readObject("capabilityArgs", n.capabilityArgs));
    if (r.has("cniArgs")) {
        json args;
        TRY(r.readArray("cniArgs", args));
        for (size_t i = 0; i < args.size(); ++i) {
            const auto& a = args[i];
            if (!a.is_array() || a.size() != 2 || !a[0].is_string() || !a[1].is_string())
                return std::unexpected(
                    r.error("cniArgs", "element " + std::to_string(i) +
                                           ": expected [\"NAME\", \"VALUE\"], got " + a.dump()));
            n.cniArgs.emplace_back(a[0].get<std::string>(), a[1].get<std::string>());
        }
    }
    if (r.has("attached")) {
        n.attached.emplace();
        for (const auto& e : TRY(r.objects("attached"))) {
            NetworkAttachment a;
            TRY(e.read("network", a.network));
            TRY(e.read("ifname", a.ifname));
            TRY(e.read("ips", a.ips));
            TRY(e.read("mac", a.mac));
            n.attached->push_back(std::move(a));
        }
    }
    return n;
}

/// A ProcessRef from two keys; present when either is.
Status readProcess(const JsonObjectReader& r, const char* pidKey, const char* timeKey,
                   std::optional<ProcessRef>& out) {
    if (!r.has(pidKey) && !r.has(timeKey)) return {};
    ProcessRef p;
    TRY(r.read(pidKey, p.pid));
    TRY(r.read(timeKey, p.startTime));
    out = p;
    return {};
}

} // namespace

const char* statusName(ContainerStatus s) {
    switch (s) {
    case ContainerStatus::Creating:
        return "creating";
    case ContainerStatus::Created:
        return "created";
    case ContainerStatus::Running:
        return "running";
    case ContainerStatus::Paused:
        return "paused";
    case ContainerStatus::Exited:
        return "exited";
    case ContainerStatus::Dead:
        return "dead";
    }
    return "unknown";
}

std::optional<ContainerStatus> parseStatus(std::string_view name) {
    for (auto s : {ContainerStatus::Creating, ContainerStatus::Created, ContainerStatus::Running,
                   ContainerStatus::Paused, ContainerStatus::Exited, ContainerStatus::Dead})
        if (name == statusName(s)) return s;
    return std::nullopt;
}

bool ProcessRef::alive() const {
    return processAlive(pid, startTime);
}

json toJson(const ContainerState& s) {
    json j = s.unknownKeys.is_object() ? s.unknownKeys : json::object();
    j["id"] = s.id;
    j["status"] = statusName(s.status);
    j["command"] = s.command;
    j["created"] = s.created;
    j["detached"] = s.detached;
    if (s.seccomp) j["seccomp"] = *s.seccomp;
    if (s.userns) j["userns"] = *s.userns;
    j["hostname"] = s.hostname;
    j["ports"] = s.ports;
    if (s.config) j["config"] = runOptionsToJson(*s.config);
    if (s.seccompProfile)
        j["seccompProfile"] = {{"source", s.seccompProfile->source},
                               {"json", s.seccompProfile->json}};
    if (s.supervisor) {
        j["supervisorPid"] = s.supervisor->pid;
        j["supervisorStartTime"] = s.supervisor->startTime;
    }
    if (s.caps) j["caps"] = *s.caps;
    if (s.user) j["user"] = {{"uid", s.user->uid}, {"gid", s.user->gid}};
    if (s.cgroup) j["cgroup"] = s.cgroup->toJson();
    if (s.process) {
        j["pid"] = s.process->pid;
        j["pidStartTime"] = s.process->startTime;
    }
    if (s.netns) j["netns"] = *s.netns;
    if (s.network) j["network"] = networkToJson(*s.network);
    if (s.startedAt) j["startedAt"] = *s.startedAt;
    if (s.finishedAt) j["finishedAt"] = *s.finishedAt;
    if (s.exitCode) j["exitCode"] = *s.exitCode;
    if (s.oomKilled) j["oomKilled"] = *s.oomKilled;
    return j;
}

Expected<ContainerState> containerStateFromJson(const json& j) {
    if (!j.is_object())
        return fail(Code::DecodeFailure,
                    std::string("expected a JSON object, got ") + j.type_name());
    JsonObjectReader r(j, "");
    ContainerState s;
    TRY(r.read("id", s.id));
    if (r.has("status")) {
        std::string name;
        TRY(r.read("status", name));
        auto st = parseStatus(name);
        if (!st)
            return std::unexpected(r.error("status", "unknown value \"" + name +
                                                         "\" (expected creating, created, "
                                                         "running, paused, exited or dead)"));
        s.status = *st;
    }
    TRY(r.read("command", s.command));
    TRY(r.read("created", s.created));
    TRY(r.read("detached", s.detached));
    TRY(r.read("seccomp", s.seccomp));
    TRY(r.read("userns", s.userns));
    TRY(r.read("hostname", s.hostname));
    TRY(checkPortMappings(r, "ports"));
    TRY(r.readArray("ports", s.ports));
    if (r.has("config")) {
        TRY(r.object("config")); // the type check, naming the key
        s.config = TRY(runOptionsFromJson(j["config"]));
    }
    if (r.has("seccompProfile")) {
        auto p = TRY(r.object("seccompProfile"));
        SeccompRecord rec;
        TRY(p.read("source", rec.source));
        TRY(p.read("json", rec.json));
        s.seccompProfile = std::move(rec);
    }
    TRY(readProcess(r, "supervisorPid", "supervisorStartTime", s.supervisor));
    TRY(r.read("caps", s.caps));
    if (r.has("user")) {
        auto u = TRY(r.object("user"));
        ContainerUser user;
        TRY(u.read("uid", user.uid));
        TRY(u.read("gid", user.gid));
        s.user = user;
    }
    if (r.has("cgroup")) {
        TRY(r.object("cgroup"));
        s.cgroup = TRY(Cgroup::fromJson(j["cgroup"]));
    }
    TRY(readProcess(r, "pid", "pidStartTime", s.process));
    TRY(r.read("netns", s.netns));
    if (r.has("network")) {
        auto net = TRY(r.object("network"));
        s.network = TRY(networkFromJson(net));
    }
    TRY(r.read("startedAt", s.startedAt));
    TRY(r.read("finishedAt", s.finishedAt));
    TRY(r.read("exitCode", s.exitCode));
    TRY(r.read("oomKilled", s.oomKilled));
    for (const auto& [key, value] : j.items())
        if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) == kKnownKeys.end())
            s.unknownKeys[key] = value;
    return s;
}

} // namespace tether::rt
