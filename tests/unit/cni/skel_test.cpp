// The plugin skeleton, driven through pluginMainWith with a fake environment.
#include <catch2/catch.hpp>

#include <map>

#include "cni/skel.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::cni;
using nlohmann::json;

namespace {

struct Run {
    int rc;
    std::string out, err;
    json j;
};

/// Environment of a typical ADD: our own netns with the override (it is a real netns).
std::map<std::string, std::string> addEnv(std::string command = "ADD") {
    return {
        {"CNI_COMMAND", command},    {"CNI_CONTAINERID", "c1"}, {"CNI_NETNS", "/proc/self/ns/net"},
        {"CNI_NETNS_OVERRIDE", "1"}, {"CNI_IFNAME", "eth0"},    {"CNI_PATH", "/opt/cni/bin"}};
}

const std::string kConf = R"({"cniVersion":"1.0.0","name":"net1","type":"test"})";

struct Calls {
    int add = 0, del = 0, check = 0;
    CmdArgs last;
};

PluginFuncs funcsFor(Calls& calls) {
    PluginFuncs f;
    f.add = [&calls](const CmdArgs& a) -> Expected<Result> {
        ++calls.add;
        calls.last = a;
        Result r;
        r.interfaces = {{a.ifname, "", {}, a.netns, "", ""}};
        r.ips = {{"10.0.0.2/24", "10.0.0.1", 0}};
        return r;
    };
    f.del = [&calls](const CmdArgs& a) -> Status {
        ++calls.del;
        calls.last = a;
        return {};
    };
    f.check = [&calls](const CmdArgs&) -> Status {
        ++calls.check;
        return {};
    };
    return f;
}

Run run(const PluginFuncs& f, const std::map<std::string, std::string>& env, std::string stdinData,
        const PluginInfo& info = {"test plugin v1"}) {
    SkelIo io;
    io.getenv = [&env](std::string_view k) -> std::optional<std::string> {
        auto it = env.find(std::string(k));
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    io.stdinData = std::move(stdinData);
    int rc = pluginMainWith(f, info, io);
    Run r{rc, io.out, io.err, json::parse(io.out, nullptr, false)};
    return r;
}

void requireError(const Run& r, Code code) {
    INFO(r.out);
    CHECK(r.rc == 1);
    REQUIRE(r.j.is_object());
    CHECK(r.j["code"] == static_cast<unsigned>(code));
    CHECK(r.j.contains("cniVersion"));
}

} // namespace

TEST_CASE("without CNI_COMMAND the about text and versions go to stderr") {
    Calls calls;
    auto r = run(funcsFor(calls), {}, "");
    CHECK(r.rc == 0);
    CHECK(r.out.empty());
    CHECK(r.err == "test plugin v1\nCNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, "
                   "0.4.0, 1.0.0, 1.1.0\n");
}

TEST_CASE("VERSION echoes a supported stdin version and lists ours") {
    Calls calls;
    auto r = run(funcsFor(calls), {{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":"0.4.0"})");
    CHECK(r.rc == 0);
    CHECK(r.j == json::parse(R"({"cniVersion":"0.4.0","supportedVersions":
        ["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})"));
    for (auto in : {"", "garbage", R"({"cniVersion":"9.9.9"})", R"({"cniVersion":7})"}) {
        auto v = run(funcsFor(calls), {{"CNI_COMMAND", "VERSION"}}, in);
        CHECK(v.rc == 0);
        CHECK(v.j["cniVersion"] == "1.1.0");
    }
    static constexpr std::string_view kFrom04[] = {"0.4.0", "1.0.0", "1.1.0"};
    auto limited = run(funcsFor(calls), {{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":"0.3.1"})",
                       PluginInfo{"x", kFrom04});
    CHECK(limited.j == json::parse(R"({"cniVersion":"1.1.0","supportedVersions":
        ["0.4.0","1.0.0","1.1.0"]})"));
}

TEST_CASE("ADD prints the result in the config's version") {
    Calls calls;
    auto r = run(funcsFor(calls), addEnv(), R"({"cniVersion":"0.3.1","name":"net1","type":"t"})");
    INFO(r.out);
    CHECK(r.rc == 0);
    CHECK(calls.add == 1);
    CHECK(r.j["cniVersion"] == "0.3.1");
    CHECK(r.j["ips"][0] ==
          json::parse(
              R"({"version":"4","interface":0,"address":"10.0.0.2/24","gateway":"10.0.0.1"})"));
    CHECK(calls.last.containerId == "c1");
    CHECK(calls.last.ifname == "eth0");
    CHECK(calls.last.path == "/opt/cni/bin");
    CHECK(calls.last.conf.name == "net1");
    CHECK(calls.last.stdinData == R"({"cniVersion":"0.3.1","name":"net1","type":"t"})");
}

TEST_CASE("handler errors become the error JSON on stdout") {
    PluginFuncs f;
    f.add = [](const CmdArgs&) -> Expected<Result> {
        return fail(Code::Exhausted, "no IP addresses available in range set", "10.0.0.0/30");
    };
    auto r = run(f, addEnv(), kConf);
    requireError(r, Code::Exhausted);
    CHECK(r.j["cniVersion"] == "1.0.0");
    CHECK(r.j["msg"] == "no IP addresses available in range set");
    CHECK(r.j["details"] == "10.0.0.0/30");
    CHECK(errorJson(Error{Code::Internal, "m", "", 0}, "1.1.0").find("details") ==
          std::string::npos);

    f.add = [](const CmdArgs&) -> Expected<Result> { throw std::runtime_error("boom"); };
    auto t = run(f, addEnv(), kConf);
    requireError(t, Code::Internal);
    CHECK(t.j["msg"] == "boom");
}

TEST_CASE("missing variables are code 4 naming them") {
    Calls calls;
    auto env = addEnv();
    env.erase("CNI_NETNS");
    env.erase("CNI_IFNAME");
    auto r = run(funcsFor(calls), env, kConf);
    requireError(r, Code::InvalidEnv);
    CHECK(r.j["msg"] == "required env variables [CNI_NETNS,CNI_IFNAME] missing");
    CHECK(calls.add == 0);

    auto del = addEnv("DEL");
    del.erase("CNI_NETNS");
    del.erase("CNI_PATH");
    auto d = run(funcsFor(calls), del, kConf);
    requireError(d, Code::InvalidEnv);
    CHECK(d.j["msg"] == "required env variables [CNI_PATH] missing");

    del["CNI_PATH"] = "/x";
    CHECK(run(funcsFor(calls), del, kConf).rc == 0); // DEL without a netns is fine
    CHECK(calls.del == 1);
    CHECK(calls.last.netns.empty());
}

TEST_CASE("unknown command is code 4") {
    Calls calls;
    auto r = run(funcsFor(calls), addEnv("FROB"), kConf);
    requireError(r, Code::InvalidEnv);
    CHECK(r.j["msg"] == "unknown CNI_COMMAND: FROB");
}

TEST_CASE("container ID and ifname are validated") {
    Calls calls;
    auto env = addEnv();
    env["CNI_CONTAINERID"] = "../x";
    requireError(run(funcsFor(calls), env, kConf), Code::InvalidEnv);
    env = addEnv();
    env["CNI_IFNAME"] = "0123456789abcdef";
    requireError(run(funcsFor(calls), env, kConf), Code::InvalidEnv);
    env["CNI_IFNAME"] = "a:b";
    requireError(run(funcsFor(calls), env, kConf), Code::InvalidEnv);
    CHECK(calls.add == 0);
}

TEST_CASE("version reconciliation") {
    Calls calls;
    auto r = run(funcsFor(calls), addEnv(), R"({"cniVersion":"0.5.0","name":"n"})");
    requireError(r, Code::IncompatibleVersion);
    CHECK(r.j["msg"] == "incompatible CNI versions");
    CHECK(r.j["details"] ==
          "config is \"0.5.0\", plugin supports [0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0]");

    auto check = run(funcsFor(calls), addEnv("CHECK"), R"({"cniVersion":"0.3.1","name":"n"})");
    requireError(check, Code::IncompatibleVersion);
    CHECK(check.j["msg"] == "config version does not allow CHECK");
    CHECK(run(funcsFor(calls), addEnv("CHECK"), kConf).rc == 0);
    CHECK(calls.check == 1);

    auto gc = run(funcsFor(calls), {{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/x"}}, kConf);
    requireError(gc, Code::IncompatibleVersion);
    auto status =
        run(funcsFor(calls), {{"CNI_COMMAND", "STATUS"}}, R"({"cniVersion":"1.1.0","name":"n"})");
    CHECK(status.rc == 0); // no handler: nothing to do
    CHECK(status.out.empty());

    static constexpr std::string_view kFrom04[] = {"0.4.0", "1.0.0", "1.1.0"};
    auto old = run(funcsFor(calls), addEnv(), R"({"cniVersion":"0.3.1","name":"n"})",
                   PluginInfo{"x", kFrom04});
    requireError(old, Code::IncompatibleVersion);
    CHECK(old.j["details"] == "config is \"0.3.1\", plugin supports [0.4.0 1.0.0 1.1.0]");
}

TEST_CASE("bad stdin: malformed JSON and wrong types are code 6, oversize is code 5") {
    Calls calls;
    requireError(run(funcsFor(calls), addEnv(), "{\"name\":"), Code::DecodeFailure);
    auto types = run(funcsFor(calls), addEnv(), R"({"cniVersion":"1.0.0","name":"n","ipam":[]})");
    requireError(types, Code::DecodeFailure);
    CHECK(types.j["msg"] == "ipam must be an object");
    auto prev = run(funcsFor(calls), addEnv(),
                    R"({"cniVersion":"1.0.0","name":"n","prevResult":{"ips":[{"address":1}]}})");
    requireError(prev, Code::DecodeFailure);
    CHECK(prev.j["msg"] == "prevResult.ips[0].address must be a string");
    auto noName = run(funcsFor(calls), addEnv(), R"({"cniVersion":"1.0.0"})");
    requireError(noName, Code::InvalidConfig);
    CHECK(noName.j["msg"] == "missing network name");

    std::string big = kConf;
    big.insert(big.size() - 1, ",\"pad\":\"" + std::string(4 * 1024 * 1024, 'x') + "\"");
    requireError(run(funcsFor(calls), addEnv(), big), Code::IoFailure);
    CHECK(calls.add == 0);
}

TEST_CASE("CNI_NETNS must be another network namespace") {
    Calls calls;
    auto env = addEnv();
    env.erase("CNI_NETNS_OVERRIDE");
    auto own = run(funcsFor(calls), env, kConf);
    requireError(own, Code::InvalidNetns);
    CHECK(own.j["msg"] == "plugin's netns and netns from CNI_NETNS should not be the same");

    test::TempDir dir;
    env["CNI_NETNS"] = dir.path().string();
    auto notNs = run(funcsFor(calls), env, kConf);
    requireError(notNs, Code::InvalidNetns);
    CHECK(notNs.j["msg"] == "CNI_NETNS " + dir.path().string() + " is not a network namespace");

    env["CNI_NETNS"] = dir / "gone";
    requireError(run(funcsFor(calls), env, kConf), Code::InvalidNetns); // ADD needs it
    CHECK(calls.add == 0);

    env["CNI_COMMAND"] = "DEL";
    CHECK(run(funcsFor(calls), env, kConf).rc == 0); // DEL of a vanished netns goes through
    env["CNI_NETNS"] = "/proc/self/ns/net";
    requireError(run(funcsFor(calls), env, kConf), Code::InvalidNetns); // never our own
    env["CNI_NETNS"] = dir.path().string();
    requireError(run(funcsFor(calls), env, kConf), Code::InvalidNetns);
    CHECK(calls.del == 1);
    env["CNI_NETNS_OVERRIDE"] = "true";
    env["CNI_NETNS"] = "/proc/self/ns/net";
    CHECK(run(funcsFor(calls), env, kConf).rc == 0);
}
