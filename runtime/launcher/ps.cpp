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

std::string statusText(const nlohmann::json& s) {
    std::string st = s.value("status", "");
    if (st == "running") return "Up " + ago(s.value("startedAt", s.value("created", int64_t{0})));
    if (st == "paused") return "Up " + ago(s.value("startedAt", int64_t{0})) + " (Paused)";
    if (st == "exited")
        return "Exited (" + std::to_string(s.value("exitCode", -1)) + ") " +
               ago(s.value("finishedAt", s.value("created", int64_t{0}))) + " ago";
    if (st == "created") return "Created";
    if (st == "dead") return "Dead (supervisor died)";
    return st;
}

std::string portsText(const nlohmann::json& s) {
    std::string out;
    for (const auto& m : s.value("ports", nlohmann::json::array())) {
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

nlohmann::json inspectView(const nlohmann::json& s) {
    nlohmann::json v = s;
    std::string status = s.value("status", "");
    v["state"] = {{"status", status},
                  {"running", status == "running" || status == "paused"},
                  {"paused", status == "paused"},
                  {"dead", status == "dead"},
                  {"oomKilled", s.value("oomKilled", false)},
                  {"pid", status == "running" || status == "paused" ? s.value("pid", 0) : 0},
                  {"exitCode", s.value("exitCode", 0)},
                  {"startedAt", rfc3339(s.value("startedAt", int64_t{0}))},
                  {"finishedAt", rfc3339(s.value("finishedAt", int64_t{0}))}};
    v["createdAt"] = rfc3339(s.value("created", int64_t{0}));
    nlohmann::json caps = nlohmann::json::array();
    for (int c : s.value("caps", std::vector<int>{}))
        caps.push_back(capName(c));
    v["capabilities"] = caps;
    nlohmann::json nets = nlohmann::json::object();
    if (s.contains("network"))
        for (const auto& a : s["network"].value("attached", nlohmann::json::array()))
            nets[a.value("network", "")] = {{"ifname", a.value("ifname", "")},
                                            {"ips", a.value("ips", nlohmann::json::array())},
                                            {"mac", a.value("mac", "")}};
    v["networks"] = nets;
    v["ports"] = s.value("ports", nlohmann::json::array());
    return v;
}

std::string formatPs(const std::vector<nlohmann::json>& states, const PsOptions& o) {
    std::vector<nlohmann::json> shown;
    for (const auto& s : states) {
        std::string st = s.value("status", "");
        if (o.all || st == "running" || st == "paused") shown.push_back(s);
    }
    std::string out;
    if (o.quiet) {
        for (const auto& s : shown)
            out += s.value("id", "") + "\n";
        return out;
    }
    if (o.format == "json") {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& s : shown) {
            auto v = inspectView(s);
            list.push_back({{"id", s.value("id", "")},
                            {"command", s.value("command", std::vector<std::string>{})},
                            {"status", s.value("status", "")},
                            {"statusText", statusText(s)},
                            {"exitCode", s.value("exitCode", 0)},
                            {"oomKilled", s.value("oomKilled", false)},
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
    for (const auto& s : shown) {
        std::string cmd;
        for (const auto& a : s.value("command", std::vector<std::string>{}))
            cmd += (cmd.empty() ? "" : " ") + a;
        if (!o.noTrunc && cmd.size() > 22) cmd = cmd.substr(0, 19) + "...";
        std::string ips;
        if (s.contains("network"))
            for (const auto& a : s["network"].value("attached", nlohmann::json::array()))
                for (const auto& ip : a.value("ips", std::vector<std::string>{}))
                    ips += (ips.empty() ? "" : ",") + ip.substr(0, ip.find('/'));
        std::snprintf(line, sizeof line, "%-14s %-22s %-16s %-28s %-20s %s\n",
                      s.value("id", "").c_str(), cmd.c_str(),
                      (ago(s.value("created", int64_t{0})) + " ago").c_str(), statusText(s).c_str(),
                      portsText(s).c_str(), ips.c_str());
        out += line;
    }
    return out;
}

} // namespace tether::rt
