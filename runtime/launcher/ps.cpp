#include "runtime/launcher/ps.hpp"

#include <sys/capability.h>

#include <cstdio>
#include <ctime>

namespace tether::rt {
namespace {

std::string ago(int64_t t) {
    int64_t d = std::time(nullptr) - t;
    if (d < 0) d = 0;
    auto unit = [](int64_t n, const char* u) {
        return std::to_string(n) + " " + u + (n == 1 ? "" : "s");
    };
    if (d < 60) return unit(d, "second");
    if (d < 3600) return unit(d / 60, "minute");
    if (d < 86400) return unit(d / 3600, "hour");
    return unit(d / 86400, "day");
}

std::string statusText(const ContainerState& s) {
    switch (s.status) {
    case ContainerStatus::Running:
        return "Up " + ago(s.startedAt.value_or(s.created));
    case ContainerStatus::Paused:
        return "Up " + ago(s.startedAt.value_or(0)) + " (Paused)";
    case ContainerStatus::Exited:
        return "Exited (" + std::to_string(s.exitCode.value_or(-1)) + ") " +
               ago(s.finishedAt.value_or(s.created)) + " ago";
    case ContainerStatus::Created:
        return "Created";
    case ContainerStatus::Dead:
        return "Dead (supervisor died)";
    case ContainerStatus::Creating:
        break;
    }
    return statusName(s.status);
}

/// "0.0.0.0:8080->80/tcp, ..." (readState checked the types of these keys).
std::string portsText(const ContainerState& s) {
    std::string out;
    for (const auto& m : s.ports) {
        if (!out.empty()) out += ", ";
        out += m.value("hostIP", std::string("0.0.0.0")) + ":" +
               std::to_string(m.value("hostPort", 0)) + "->" +
               std::to_string(m.value("containerPort", 0)) + "/" + m.value("protocol", "tcp");
    }
    return out;
}

std::string capName(int cap) {
    char* n = ::cap_to_name(static_cast<cap_value_t>(cap));
    std::string s = n ? n : std::to_string(cap);
    if (n) ::cap_free(n);
    for (auto& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

std::string rfc3339(int64_t t) {
    if (t <= 0) return "";
    time_t tt = static_cast<time_t>(t);
    tm g{};
    ::gmtime_r(&tt, &g);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &g);
    return buf;
}

nlohmann::json inspectView(const ContainerState& s) {
    nlohmann::json v = toJson(s);
    bool up = isUp(s.status);
    v["state"] = {{"status", statusName(s.status)},
                  {"running", up},
                  {"paused", s.status == ContainerStatus::Paused},
                  {"dead", s.status == ContainerStatus::Dead},
                  {"oomKilled", s.oomKilled.value_or(false)},
                  {"pid", up ? s.pid() : 0},
                  {"exitCode", s.exitCode.value_or(0)},
                  {"startedAt", rfc3339(s.startedAt.value_or(0))},
                  {"finishedAt", rfc3339(s.finishedAt.value_or(0))}};
    v["createdAt"] = rfc3339(s.created);
    nlohmann::json caps = nlohmann::json::array();
    for (int c : s.caps.value_or(std::vector<int>{}))
        caps.push_back(capName(c));
    v["capabilities"] = caps;
    nlohmann::json nets = nlohmann::json::object();
    if (s.network && s.network->attached)
        for (const auto& a : *s.network->attached)
            nets[a.network] = {{"ifname", a.ifname}, {"ips", a.ips}, {"mac", a.mac}};
    v["networks"] = nets;
    v["ports"] = s.ports;
    return v;
}

std::string formatPs(const std::vector<ContainerState>& states, const PsOptions& o) {
    std::vector<const ContainerState*> shown;
    for (const auto& s : states)
        if (o.all || isUp(s.status)) shown.push_back(&s);
    std::string out;
    if (o.quiet) {
        for (const auto* s : shown)
            out += s->id + "\n";
        return out;
    }
    if (o.format == "json") {
        nlohmann::json list = nlohmann::json::array();
        for (const auto* s : shown) {
            auto v = inspectView(*s);
            list.push_back({{"id", s->id},
                            {"command", s->command},
                            {"status", statusName(s->status)},
                            {"statusText", statusText(*s)},
                            {"exitCode", s->exitCode.value_or(0)},
                            {"oomKilled", s->oomKilled.value_or(false)},
                            {"createdAt", v["createdAt"]},
                            {"networks", v["networks"]},
                            {"ports", v["ports"]},
                            {"pid", v["state"]["pid"]}});
        }
        return list.dump(2) + "\n";
    }
    char line[1024];
    std::snprintf(line, sizeof line, "%-14s %-22s %-16s %-28s %-20s %s\n", "CONTAINER ID",
                  "COMMAND", "CREATED", "STATUS", "PORTS", "IP");
    out += line;
    for (const auto* s : shown) {
        std::string cmd;
        for (const auto& a : s->command)
            cmd += (cmd.empty() ? "" : " ") + a;
        if (!o.noTrunc && cmd.size() > 22) cmd = cmd.substr(0, 19) + "...";
        std::string ips;
        if (s->network && s->network->attached)
            for (const auto& a : *s->network->attached)
                for (const auto& ip : a.ips)
                    ips += (ips.empty() ? "" : ",") + ip.substr(0, ip.find('/'));
        std::snprintf(line, sizeof line, "%-14s %-22s %-16s %-28s %-20s %s\n", s->id.c_str(),
                      cmd.c_str(), (ago(s->created) + " ago").c_str(), statusText(*s).c_str(),
                      portsText(*s).c_str(), ips.c_str());
        out += line;
    }
    return out;
}

} // namespace tether::rt
