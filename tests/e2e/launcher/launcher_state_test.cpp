// state.json as a typed record: files written by the previous version (state_golden/, captured
// from `tether run`/`create` before ContainerState existed) read back and written out unchanged,
// unknown keys kept, missing ones defaulted, and a malformed file reported by `inspect`, `ps`
// and `gc` with the file and key named, without a crash.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "launcher_env.hpp"
#include "runtime/launcher/state.hpp"

using nlohmann::json;
using tether::rt::ContainerState;
using tether::rt::ContainerStatus;
using tether::test::LauncherEnv;
namespace fs = std::filesystem;

namespace {

json golden(const std::string& name) {
    std::ifstream in(std::string(TETHER_SOURCE_DIR) + "/tests/e2e/launcher/state_golden/" + name +
                     ".json");
    REQUIRE(in.good());
    return json::parse(in);
}

/// Writes `text` as <state dir>/<id>/state.json (with the mark `run` leaves).
void plant(const LauncherEnv& env, const std::string& id, const std::string& text) {
    fs::path dir = fs::path(env.stateDir()) / id;
    fs::create_directories(dir);
    std::ofstream(dir / ".tether-container").flush();
    std::ofstream(dir / "state.json") << text;
}

std::set<std::string> keys(const json& j) {
    std::set<std::string> out;
    for (const auto& [k, v] : j.items())
        out.insert(k);
    return out;
}

/// The error of reading `j`, "" when it reads.
std::string readError(const json& j) {
    auto st = tether::rt::containerStateFromJson(j);
    return st ? "" : st.error().msg;
}

} // namespace

TEST_CASE("state: records of the previous version read back and write out unchanged",
          "[launcher][state]") {
    for (const char* name : {"running_none", "running_default_net", "created", "exited"}) {
        INFO(name);
        json file = golden(name);
        auto st = tether::rt::containerStateFromJson(file);
        REQUIRE(st);
        CHECK(tether::rt::toJson(*st) == file);
    }
    auto net = *tether::rt::containerStateFromJson(golden("running_default_net"));
    CHECK(net.status == ContainerStatus::Running);
    CHECK(net.pid() == 21410);
    CHECK(net.supervisor->pid == 21409);
    REQUIRE(net.network);
    REQUIRE(net.network->attached);
    CHECK(net.network->attached->at(0).ips == std::vector<std::string>{"10.77.0.2/16"});
    CHECK(net.network->capabilityArgs["portMappings"][0]["hostPort"] == 8080);
    CHECK(net.cgroup->unifiedDir() == "/sys/fs/cgroup/unified/tether-gold-21403/f850c34c-g2");
    CHECK(net.config->net.kind == tether::rt::NsMode::Private);
    auto made = *tether::rt::containerStateFromJson(golden("created"));
    CHECK(made.status == ContainerStatus::Created);
    CHECK(!made.supervisor);
    CHECK(!made.seccomp);
    CHECK(made.config->command == std::vector<std::string>{"echo", "hi"});
    auto done = *tether::rt::containerStateFromJson(golden("exited"));
    CHECK(done.exitCode == 3);
    CHECK(!done.cgroup);
    CHECK(done.config->net.kind == tether::rt::NsMode::None);
}

TEST_CASE("state: unknown keys are kept, missing ones get defaults", "[launcher][state]") {
    json file = golden("exited");
    file["fromANewerVersion"] = {{"x", 1}};
    auto st = tether::rt::containerStateFromJson(file);
    REQUIRE(st);
    CHECK(tether::rt::toJson(*st)["fromANewerVersion"] == json{{"x", 1}});

    auto bare = tether::rt::containerStateFromJson(json{{"id", "b"}});
    REQUIRE(bare);
    CHECK(bare->status == ContainerStatus::Creating);
    CHECK(bare->pid() == 0);
    CHECK(!bare->config);
    CHECK(keys(tether::rt::toJson(*bare)) == std::set<std::string>{"id", "status", "command",
                                                                   "created", "detached",
                                                                   "hostname", "ports"});
}

TEST_CASE("state: a value of the wrong type is an error naming its key", "[launcher][state]") {
    json base = golden("running_default_net");
    auto with = [&](const json::json_pointer& at, const json& v) {
        json j = base;
        j[at] = v;
        return readError(j);
    };
    using P = json::json_pointer;
    CHECK(with(P("/pid"), "abc") == "key \"pid\": expected an integer, got string");
    CHECK(with(P("/status"), "bogus").starts_with("key \"status\": unknown value \"bogus\""));
    CHECK(with(P("/network/attached"), "x").starts_with("key \"network.attached\": expected"));
    CHECK(with(P("/network/attached/0/ips"), "10.0.0.1") ==
          "key \"network.attached[0].ips\": expected an array of strings, got string");
    CHECK(with(P("/config/limits"), json{{"pids", "many"}}) ==
          "key \"config.limits.pids\": expected an integer, got string");
    CHECK(with(P("/config/net/kind"), 9).starts_with("key \"config.net.kind\""));
    CHECK(with(P("/cgroup/dirs"), 5).starts_with("key \"cgroup.dirs\""));
    CHECK(with(P("/ports/0/hostPort"), "80").starts_with("key \"ports[0].hostPort\""));
    CHECK(with(P("/caps/1"), "CAP_KILL").starts_with("key \"caps\": element 1"));
    CHECK(
        with(P("/supervisorPid"), 1e12).starts_with("key \"supervisorPid\": expected an integer"));
    CHECK(with(P("/supervisorPid"), 99999999999LL).starts_with("key \"supervisorPid\": value"));
    CHECK(with(P("/detached"), 1) == "key \"detached\": expected true or false, got number");
    CHECK(readError(json::array()) == "expected a JSON object, got array");
    CHECK(with(P("/pid"), nullptr).empty()); // null is absent
}

TEST_CASE("state: inspect, ps and gc report a malformed state.json and go on",
          "[launcher][state]") {
    LauncherEnv env;
    plant(env, "g4", golden("exited").dump(2));
    plant(env, "g3", golden("created").dump(2));
    plant(env, "g1", golden("running_none").dump(2)); // its supervisor is long gone: dead
    plant(env, "bad1", R"({"id": "bad1", "status": "running", "pid": "abc"})");
    plant(env, "bad2", "{not json");
    plant(env, "bad3", R"({"network": {"attached": [{"ips": "10.0.0.2/24"}]}})");
    auto file = [&](const std::string& id) { return env.stateDir() + "/" + id + "/state.json"; };

    // What the previous version wrote is shown as it was written (live status for g1).
    CHECK(env.tether({"inspect", "--raw", "g4"}).json() == golden("exited"));
    CHECK(env.tether({"inspect", "--raw", "g3"}).json() == golden("created"));
    json dead = golden("running_none");
    dead["status"] = "dead";
    CHECK(env.tether({"inspect", "--raw", "g1"}).json() == dead);
    CHECK(env.tether({"inspect", "g4"}).json()["state"]["exitCode"] == 3);

    auto i1 = env.tether({"inspect", "bad1"});
    CHECK(i1.exitCode == 125);
    CHECK(i1.err == "tether: " + file("bad1") + ": key \"pid\": expected an integer, got string\n");
    auto i2 = env.tether({"inspect", "bad2"});
    CHECK(i2.exitCode == 125);
    CHECK(i2.err.starts_with("tether: " + file("bad2") + ": not valid JSON ("));
    auto i3 = env.tether({"inspect", "bad3", "g4"}); // the good one is still printed
    CHECK(i3.exitCode == 125);
    CHECK(i3.err.find(file("bad3") + ": key \"network.attached[0].ips\"") != std::string::npos);
    CHECK(i3.json()["id"] == "g4");

    auto ps = env.tether({"ps", "-a", "--format", "json"});
    CHECK(ps.exitCode == 0);
    std::set<std::string> listed;
    for (const auto& c : ps.json())
        listed.insert(c["id"]);
    CHECK(listed == std::set<std::string>{"g1", "g3", "g4"});
    for (const char* id : {"bad1", "bad2", "bad3"})
        CHECK(ps.err.find("tether: " + file(id) + ": ") != std::string::npos);
    CHECK(env.tether({"ps", "-a"}).out.find("Exited (3)") != std::string::npos);

    auto gc = env.tether({"gc"});
    CHECK(gc.exitCode == 125);
    CHECK(gc.out.find("removed container g1") != std::string::npos); // dead: torn down
    CHECK(gc.err.find("kept (not torn down): " + file("bad1") + ": key \"pid\"") !=
          std::string::npos);
    for (const char* id : {"bad1", "bad2", "bad3", "g4"}) // g4: exited detached, kept until rm
        CHECK(fs::exists(file(id)));
    CHECK(!fs::exists(env.stateDir() + "/g1"));

    CHECK(env.tether({"rm", "g4"}).exitCode == 0);
    // rm without -f refuses an unreadable state and keeps it; rm -f removes it and says what it
    // could not do without the state.
    auto keep = env.tether({"rm", "bad2"});
    CHECK(keep.exitCode == 125);
    CHECK(keep.err.find(file("bad2") + ": not valid JSON") != std::string::npos);
    CHECK(fs::exists(file("bad2")));
    for (const char* id : {"bad1", "bad2", "bad3"}) {
        auto rm = env.tether({"rm", "-f", id});
        INFO(id << ": " << rm.err);
        CHECK(rm.exitCode == 0);
        CHECK(rm.err.find("removed without its state") != std::string::npos);
        CHECK(!fs::exists(env.stateDir() + "/" + id));
    }
    CHECK(env.tether({"rm", "g3"}).exitCode == 0); // created: kept by gc, removed by rm
    CHECK(env.leftovers().empty());
}

TEST_CASE("state: a real run writes the keys the previous version wrote; unknown keys survive "
          "a start",
          "[launcher][state]") {
    LauncherEnv env;
    REQUIRE(env.runNone({"-d", "--name", "k1", "--", "sleep", "30"}).exitCode == 0);
    std::ifstream in(env.stateDir() + "/k1/state.json");
    json now = json::parse(in);
    CHECK(keys(now) == keys(golden("running_none")));
    CHECK(keys(now["config"]) == keys(golden("running_none")["config"]));
    CHECK(keys(now["cgroup"]) == keys(golden("running_none")["cgroup"]));
    REQUIRE(env.tether({"rm", "-f", "k1"}).exitCode == 0);

    REQUIRE(env.tether({"create", "--net", "none", "--name", "u1", "--", "sh", "-c", "exit 4"})
                .exitCode == 0);
    std::string path = env.stateDir() + "/u1/state.json";
    json made = json::parse(std::ifstream(path));
    CHECK(keys(made) == keys(golden("created")));
    made["fromANewerVersion"] = "kept";
    std::ofstream(path) << made.dump();
    REQUIRE(env.tether({"start", "u1"}).exitCode == 0);
    CHECK(env.tether({"wait", "u1"}).out == "4\n");
    json after = json::parse(std::ifstream(path));
    CHECK(after["status"] == "exited");
    CHECK(after["exitCode"] == 4);
    CHECK(after["fromANewerVersion"] == "kept");
    REQUIRE(env.tether({"rm", "u1"}).exitCode == 0);
    CHECK(env.leftovers().empty());
}
