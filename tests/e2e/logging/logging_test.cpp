// Logging as an admin sees it (docs/logging.md): a plugin run with TETHER_LOG_LEVEL and a
// logFile writes lines naming the container; at the default level a successful ADD/DEL writes
// nothing to stderr; bad levels fail before anything is touched; `tether --log-level debug net
// add` logs the plugin executions; `tether fixture up` from the build tree finds the plugins
// beside `tether` with CNI_PATH unset (the one plugin-path resolver).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/run_dir.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using nlohmann::json;
using test::execHere;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

json bridgeConf(const std::string& dataDir, const std::string& bridge, const json& extra = {}) {
    json conf = {{"cniVersion", "1.1.0"},
                 {"name", "lognet"},
                 {"type", "bridge"},
                 {"bridge", bridge},
                 {"ipam",
                  {{"type", "host-local"},
                   {"ranges", json::array({json::array({{{"subnet", "10.61.0.0/24"}}})})},
                   {"dataDir", dataDir}}}};
    if (!extra.is_null()) conf.merge_patch(extra);
    return conf;
}

test::PluginRun bridge(const std::string& command, const std::string& id, const std::string& netns,
                       const json& conf,
                       std::vector<std::pair<std::string, std::string>> env = {}) {
    env.insert(env.end(), {{"CNI_CONTAINERID", id},
                           {"CNI_IFNAME", "eth0"},
                           {"CNI_NETNS", netns},
                           {"CNI_PATH", test::binDir()}});
    return test::runPlugin(test::binDir() + "/bridge", command, env, conf.dump());
}

bool linkExists(const std::string& name) {
    return execHere({"ip", "link", "show", "dev", name}).exitCode == 0;
}

} // namespace

TEST_CASE("debug level and logFile: lines name the container, command and steps", "[logging]") {
    test::TempDir tmp;
    test::ScratchNetns ns;
    const std::string log = tmp / "plugin.log";
    json conf = bridgeConf(tmp / "ipam", "tlog0", {{"logFile", log}, {"logLevel", "debug"}});

    auto add = bridge("ADD", "logctr-1", ns.path(), conf, {{"TETHER_LOG_LEVEL", "debug"}});
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    std::string text = slurp(log);
    INFO(text);
    CHECK(has(text, "debug"));
    CHECK(has(text, "bridge ADD container=logctr-1 ifname=eth0: bridge=tlog0"));
    CHECK(has(text, "bridge ADD container=logctr-1 ifname=eth0: veth "));
    // host-local ran in-process and logs under its own name
    CHECK(has(text, "host-local ADD container=logctr-1 ifname=eth0: range set 0: leased 10.61.0."));
    CHECK(has(text, "container side configured: 10.61.0."));
    CHECK(has(text, "bridge ADD container=logctr-1 ifname=eth0: succeeded in "));
    // the same lines on stderr (TETHER_LOG_LEVEL=debug), nothing on stdout but the result
    CHECK(has(add.err, "bridge ADD container=logctr-1 ifname=eth0: succeeded in "));
    REQUIRE(add.json);
    CHECK((*add.json)["ips"][0]["address"].get<std::string>().starts_with("10.61.0."));

    auto del = bridge("DEL", "logctr-1", ns.path(), conf);
    REQUIRE(del.exitCode == 0);
    CHECK(del.err.empty()); // TETHER_LOG_LEVEL unset: stderr quiet, the file still gets lines
    text = slurp(log);
    CHECK(has(text, "bridge DEL container=logctr-1 ifname=eth0: deleting eth0"));
    CHECK(has(text,
              "host-local DEL container=logctr-1 ifname=eth0: leases of logctr-1/eth0 released"));
    CHECK(has(text, "bridge DEL container=logctr-1 ifname=eth0: succeeded in "));
    CHECK(linkExists("tlog0"));
    (void)execHere({"ip", "link", "del", "tlog0"});
}

TEST_CASE("logLevel error: a successful ADD writes no line to the file", "[logging]") {
    test::TempDir tmp;
    test::ScratchNetns ns;
    const std::string log = tmp / "quiet.log";
    json conf = bridgeConf(tmp / "ipam", "tlog1", {{"logFile", log}, {"logLevel", "error"}});
    auto add = bridge("ADD", "logctr-2", ns.path(), conf);
    REQUIRE(add.exitCode == 0);
    CHECK(slurp(log).empty());
    // a failing CHECK (no prevResult) is logged at error level with its code
    auto check = bridge("CHECK", "logctr-2", ns.path(), conf);
    CHECK(check.exitCode == 1);
    CHECK(has(slurp(log), "error ["));
    CHECK(has(slurp(log), "bridge CHECK container=logctr-2 ifname=eth0: failed in "));
    CHECK(bridge("DEL", "logctr-2", ns.path(), conf).exitCode == 0);
    (void)execHere({"ip", "link", "del", "tlog1"});
}

TEST_CASE("default level: ADD and DEL write nothing to stderr and no file", "[logging]") {
    test::TempDir tmp;
    test::ScratchNetns ns;
    json conf = bridgeConf(tmp / "ipam", "tlog2");
    auto add = bridge("ADD", "logctr-3", ns.path(), conf);
    INFO(add.out);
    REQUIRE(add.exitCode == 0);
    CHECK(add.err.empty());
    auto del = bridge("DEL", "logctr-3", ns.path(), conf);
    CHECK(del.exitCode == 0);
    CHECK(del.err.empty());
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
        left.push_back(e.path().filename());
    CHECK(left == std::vector<std::string>{"ipam"});
    (void)execHere({"ip", "link", "del", "tlog2"});
}

TEST_CASE("bad levels and paths fail with the right code before anything is made", "[logging]") {
    test::TempDir tmp;
    test::ScratchNetns ns;
    struct Case {
        json extra;
        std::vector<std::pair<std::string, std::string>> env;
        unsigned code;
        std::string msg;
    };
    std::vector<Case> cases = {
        {json(nullptr),
         {{"TETHER_LOG_LEVEL", "loud"}},
         4,
         "TETHER_LOG_LEVEL \"loud\" is not a log level"},
        {{{"logFile", tmp / "x.log"}, {"logLevel", "chatty"}},
         {},
         7,
         "logLevel \"chatty\" is not a log level"},
        {{{"logLevel", 3}}, {}, 6, "logLevel must be a string"},
        {{{"logFile", "relative.log"}}, {}, 7, "logFile \"relative.log\" must be an absolute path"},
    };
    for (const auto& c : cases) {
        auto add =
            bridge("ADD", "logctr-4", ns.path(), bridgeConf(tmp / "ipam", "tlog3", c.extra), c.env);
        INFO(add.out);
        CHECK(add.exitCode == 1);
        REQUIRE(add.json);
        CHECK((*add.json)["code"] == c.code);
        CHECK(has((*add.json)["msg"].get<std::string>(), c.msg));
        CHECK_FALSE(linkExists("tlog3"));
        CHECK_FALSE(std::filesystem::exists(tmp / "ipam"));
    }
}

TEST_CASE("an unopenable logFile is reported on stderr and the ADD still succeeds", "[logging]") {
    test::TempDir tmp;
    test::ScratchNetns ns;
    json conf = bridgeConf(tmp / "ipam", "tlog4", {{"logFile", tmp / "no/such/dir.log"}});
    auto add = bridge("ADD", "logctr-5", ns.path(), conf);
    CHECK(add.exitCode == 0);
    CHECK(has(add.err, "open log file " + (tmp / "no/such/dir.log")));
    CHECK(bridge("DEL", "logctr-5", ns.path(), conf).exitCode == 0);
    (void)execHere({"ip", "link", "del", "tlog4"});
}

TEST_CASE("tether --log-level debug net add logs the plugin executions", "[logging][cli]") {
    test::TempDir tmp;
    test::ScratchNetns ns;
    std::filesystem::create_directories(tmp.path() / "net.d");
    json list = {{"cniVersion", "1.1.0"},
                 {"name", "clinet"},
                 {"plugins", json::array({bridgeConf(tmp / "ipam", "tlog5")})}};
    list["plugins"][0].erase("cniVersion");
    list["plugins"][0].erase("name");
    std::ofstream(tmp / "net.d/10-clinet.conflist") << list.dump();
    auto tether = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"env", "-u", "CNI_PATH", "-u", "TETHER_LOG_LEVEL",
                                   "NETCONFPATH=" + (tmp / "net.d"),
                                   "CNI_CACHE_DIR=" + (tmp / "cache"), test::binDir() + "/tether"});
        return execHere(args);
    };
    auto add = tether({"--log-level", "debug", "net", "add", "clinet", ns.path(), "--id", "cli-1"});
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    CHECK(has(add.err, "debug"));
    CHECK(has(add.err, "ADD bridge (network clinet, container cli-1, ifname eth0): " +
                           test::binDir() + "/bridge"));
    CHECK(has(add.err, "ADD bridge exited 0 after "));
    // the plugins ran at the CLI's level: their lines come back prefixed [network/type]
    CHECK(has(add.err, "[clinet/bridge] "));
    CHECK(has(add.err, "bridge ADD container=cli-1 ifname=eth0: veth "));

    auto del = tether({"net", "del", "clinet", ns.path(), "--id", "cli-1"});
    CHECK(del.exitCode == 0);
    CHECK(del.err.empty()); // default warn: nothing on success

    auto bad = tether({"--log-level=loud", "net", "ls"});
    CHECK(bad.exitCode == 125);
    CHECK(has(bad.err, "--log-level \"loud\" is not a log level"));
    auto toFile = tether({"--log-file", tmp / "cli.log", "--log-level", "debug", "net", "add",
                          "clinet", ns.path(), "--id", "cli-2"});
    CHECK(toFile.exitCode == 0);
    CHECK(has(slurp(tmp / "cli.log"), "ADD bridge exited 0 after "));
    CHECK(tether({"net", "del", "clinet", ns.path(), "--id", "cli-2"}).exitCode == 0);
    (void)execHere({"ip", "link", "del", "tlog5"});
}

TEST_CASE("tether fixture up from the build tree finds the plugins with CNI_PATH unset",
          "[fixture][cli]") {
    test::isolateRunDir();
    test::TempDir tmp;
    const std::string topo = test::sourceDir() + "/netns-fixtures/examples/nat-router.json";
    auto fixture = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"env", "-u", "CNI_PATH", test::binDir() + "/tether", "fixture"});
        return execHere(args, 120);
    };
    auto up = fixture({"up", topo, "--name", "logpath"});
    INFO(up.out << up.err);
    REQUIRE(up.exitCode == 0);
    // the containers got their addresses from the bridge + host-local beside `tether`
    auto ping = fixture({"exec", "logpath", "c1", "--", "ping", "-c1", "-W2", "203.0.113.2"});
    INFO(ping.out << ping.err);
    CHECK(ping.exitCode == 0);
    CHECK(fixture({"down", "logpath"}).exitCode == 0);
}
