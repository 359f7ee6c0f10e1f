#include "netns-fixtures/registry.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error_list.hpp"
#include "libcni/attach.hpp"
#include "libnet/netns.hpp"

namespace tether::fixture {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json toJson(const Record& r) {
    json j = {{"name", r.name},         {"ownerPid", r.ownerPid}, {"ownerStart", r.ownerStart},
              {"netnsDir", r.netnsDir}, {"netns", r.netns},       {"containers", json::array()}};
    for (const auto& c : r.containers)
        j["containers"].push_back({{"name", c.name},
                                   {"hostNetns", c.hostNetns},
                                   {"netns", c.netns},
                                   {"network", c.network},
                                   {"configDir", c.configDir},
                                   {"cniPath", c.cniPath},
                                   {"cacheDir", c.cacheDir},
                                   {"containerId", c.containerId}});
    return j;
}

Expected<Record> fromJson(const json& j, const std::string& stateDir) {
    try {
        Record r;
        r.name = j.at("name").get<std::string>();
        r.ownerPid = j.at("ownerPid").get<pid_t>();
        r.ownerStart = j.at("ownerStart").get<uint64_t>();
        r.netnsDir = j.at("netnsDir").get<std::string>();
        r.stateDir = stateDir;
        r.netns = j.at("netns").get<std::map<std::string, std::string>>();
        for (const auto& c : j.at("containers"))
            r.containers.push_back({c.at("name"), c.at("hostNetns"), c.at("netns"), c.at("network"),
                                    c.at("configDir"), c.at("cniPath"), c.at("cacheDir"),
                                    c.at("containerId")});
        return r;
    } catch (const json::exception& e) {
        return fail(Code::DecodeFailure, "fixture record: " + std::string(e.what()));
    }
}

void note(ErrorList& errors, const Status& st) {
    errors.add(st);
}

Status detachContainer(const ContainerRecord& c) {
    auto host = net::Netns::openIfExists(c.hostNetns);
    if (!host) return std::unexpected(host.error());
    const std::optional<net::Netns>& hostNs = *host;
    if (!hostNs) return {}; // the plugins' namespace is gone, and with it what they made there
    rt::NetPaths paths{.configDir = c.configDir, .cniPath = c.cniPath, .cacheDir = c.cacheDir};
    rt::AttachRequest req{
        .containerId = c.containerId, .netnsPath = c.netns, .networks = {c.network}};
    return net::inNetns(*hostNs, [&]() -> Status { return rt::detachNetworks(paths, req); });
}

} // namespace

uint64_t processStartTime(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!in || !std::getline(in, line)) return 0;
    auto close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22) return std::stoull(field);
    return 0;
}

bool Record::ownerAlive() const {
    if (ownerPid == 0) return true;
    return processStartTime(ownerPid) == ownerStart && ownerStart != 0;
}

Status claimRecord(const Record& rec) {
    std::error_code ec;
    fs::create_directories(rec.stateDir, ec);
    if (ec) return failErrno("create " + rec.stateDir, ec.value());
    if (::mkdir(rec.dir().c_str(), 0700) != 0) {
        int err = errno;
        if (err == EEXIST)
            return fail(Code::Conflict,
                        "fixture " + rec.name + " already exists (" + rec.dir() + ")");
        return failErrno("create " + rec.dir(), err);
    }
    auto st = writeRecord(rec);
    if (!st) fs::remove_all(rec.dir(), ec);
    return st;
}

Status writeRecord(const Record& rec) {
    std::string path = rec.dir() + "/fixture.json", tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << toJson(rec).dump(2) << '\n';
        if (!out.flush()) return fail(Code::IoFailure, "write " + tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return failErrno("rename " + tmp, errno, Code::IoFailure);
    return {};
}

Expected<Record> readRecord(const std::string& stateDir, const std::string& name) {
    std::string path = stateDir + "/" + name + "/fixture.json";
    std::ifstream in(path);
    if (!in) return fail(Code::UnknownContainer, "no fixture " + name + " (" + path + ")");
    json j = json::parse(in, nullptr, false);
    if (j.is_discarded()) return fail(Code::DecodeFailure, path + " is not JSON");
    auto r = fromJson(j, stateDir);
    if (!r) return std::unexpected(r.error().wrap(path));
    return r;
}

std::vector<Record> listRecords(const std::string& stateDir) {
    std::vector<Record> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(stateDir, ec)) {
        if (!entry.is_directory()) continue;
        if (auto r = readRecord(stateDir, entry.path().filename().string())) out.push_back(*r);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

Status teardownRecord(const Record& rec) {
    ErrorList errors;
    for (auto it = rec.containers.rbegin(); it != rec.containers.rend(); ++it)
        if (auto st = detachContainer(*it); !st)
            note(errors, std::unexpected(st.error().wrap("detach container " + it->name)));
    std::vector<std::string> paths;
    paths.reserve(rec.netns.size());
    for (const auto& [_, path] : rec.netns)
        paths.push_back(path);
    // Files of this fixture not in the record (there should be none) are removed as well.
    std::error_code ec;
    std::string prefix = rec.name + "-";
    for (const auto& entry : fs::directory_iterator(rec.netnsDir, ec)) {
        std::string file = entry.path().filename().string();
        if (file.starts_with(prefix) &&
            std::find(paths.begin(), paths.end(), entry.path().string()) == paths.end())
            paths.push_back(entry.path().string());
    }
    for (const auto& path : paths)
        if (auto r = net::removePinnedNetns(path); !r)
            note(errors, std::unexpected(r.error().wrap("remove netns " + path)));
    fs::remove_all(rec.dir(), ec);
    if (ec) note(errors, failErrno("remove " + rec.dir(), ec.value(), Code::IoFailure));
    return errors.result("teardown of fixture " + rec.name);
}

Expected<GcReport> gc(const std::string& stateDir, const std::string& netnsDir, bool all) {
    GcReport report;
    ErrorList errors;
    std::vector<std::string> owned;
    for (const auto& rec : listRecords(stateDir)) {
        if (!all && rec.ownerAlive()) {
            owned.push_back(rec.name + "-");
            continue;
        }
        note(errors, teardownRecord(rec));
        report.fixtures.push_back(rec.name);
    }
    // A directory without a readable record (a crash while writing it) holds nothing to undo
    // beyond netns files carrying its name, which the stray scan below handles with `all`.
    if (all) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(netnsDir, ec)) {
            std::string file = entry.path().filename().string();
            if (!file.starts_with(kNamePrefix)) continue;
            bool isOwned = std::any_of(owned.begin(), owned.end(),
                                       [&](const auto& p) { return file.starts_with(p); });
            if (isOwned) continue;
            if (auto r = net::removePinnedNetns(entry.path().string()); !r)
                note(errors, std::unexpected(r.error()));
            else
                report.strayNetns.push_back(entry.path().string());
        }
    }
    TRY(errors.result("gc"));
    return report;
}

} // namespace tether::fixture
