// Executing plugins: tiny shell-script plugins written to a temporary directory.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "cni/invoke.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::cni;
using nlohmann::json;

namespace {

std::string writeScript(const test::TempDir& dir, const std::string& name,
                        const std::string& body) {
    std::string path = dir / name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
    return path;
}

ExecRequest request(std::string path, std::string stdinData = "{}") {
    ExecRequest r;
    r.pluginPath = std::move(path);
    r.env = {{"CNI_COMMAND", "ADD"}};
    r.stdinData = std::move(stdinData);
    return r;
}

} // namespace

TEST_CASE("exit 0 returns stdout and stderr, with our env and stdin") {
    test::TempDir dir;
    auto p = writeScript(dir, "echo", "echo \"cmd=$CNI_COMMAND x=$X_VAR\"; cat; echo log >&2");
    ::setenv("X_VAR", "inherited", 1);
    auto out = execPlugin(request(p, "hello"));
    REQUIRE(out);
    CHECK(out->out == "cmd=ADD x=inherited\nhello");
    CHECK(out->err == "log\n");

    auto req = request(p, "");
    req.inheritEnv = false;
    req.env.emplace_back("CNI_COMMAND", "DEL"); // the last of duplicate keys wins
    out = execPlugin(req);
    REQUIRE(out);
    CHECK(out->out == "cmd=DEL x=\n");
}

TEST_CASE("large stdin and outputs do not deadlock") {
    test::TempDir dir;
    auto p = writeScript(dir, "big", "cat; head -c 1048576 /dev/zero >&2");
    std::string in(3 * 1024 * 1024, 'a');
    auto out = execPlugin(request(p, in));
    REQUIRE(out);
    CHECK(out->out == in);
    CHECK(out->err.size() == 1048576);
}

TEST_CASE("a plugin that ignores its stdin does not kill us with SIGPIPE") {
    test::TempDir dir;
    auto p = writeScript(dir, "deaf", "exec 0<&-; echo '{}'");
    auto out = execPlugin(request(p, std::string(1 << 20, 'x')));
    REQUIRE(out);
    CHECK(out->out == "{}\n");
}

TEST_CASE("the error JSON on stdout is propagated") {
    test::TempDir dir;
    auto p = writeScript(dir, "err", R"(cat >/dev/null
echo '{"cniVersion":"1.0.0","code":7,"msg":"bad subnet","details":"10.0.0.0/33"}'
echo 'some log' >&2
exit 1)");
    auto out = execPlugin(request(p));
    REQUIRE_FALSE(out);
    CHECK(out.error().code == Code::InvalidConfig);
    CHECK(out.error().msg == "bad subnet");
    CHECK(out.error().details == "10.0.0.0/33");

    auto raw = execPluginRaw(request(p));
    REQUIRE(raw);
    CHECK(raw->exitCode == 1);
    CHECK(json::parse(raw->out)["code"] == 7);
    CHECK(raw->err == "some log\n");
}

TEST_CASE("failures without error JSON are code 999 as libcni reports them") {
    test::TempDir dir;
    auto stderrOnly = execPlugin(request(writeScript(dir, "a", "echo 'it broke' >&2; exit 2")));
    REQUIRE_FALSE(stderrOnly);
    CHECK(stderrOnly.error().code == Code::Internal);
    CHECK(stderrOnly.error().msg == "netplugin failed: \"it broke\\n\"");
    CHECK(stderrOnly.error().details == "exit status 2");

    auto silent = execPlugin(request(writeScript(dir, "b", "exit 3")));
    REQUIRE_FALSE(silent);
    CHECK(silent.error().msg == "netplugin failed with no error message");

    auto garbage = execPlugin(request(writeScript(dir, "c", "echo not-json; exit 1")));
    REQUIRE_FALSE(garbage);
    CHECK(garbage.error().msg.starts_with("netplugin failed but error parsing its diagnostic"));

    auto killed = execPluginRaw(request(writeScript(dir, "d", "kill -9 $$")));
    REQUIRE(killed);
    CHECK(killed->exitCode == 128 + 9);
}

TEST_CASE("a plugin past its timeout is killed with code 11") {
    test::TempDir dir;
    auto req = request(writeScript(dir, "slow", "exec sleep 10"));
    req.timeout = std::chrono::milliseconds(200);
    auto start = std::chrono::steady_clock::now();
    auto out = execPlugin(req);
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(out);
    CHECK(out.error().code == Code::TryAgainLater);
    CHECK(took < std::chrono::seconds(3));
}

TEST_CASE("a binary that cannot be started is an error naming it") {
    auto out = execPlugin(request("/nonexistent/plugin"));
    REQUIRE_FALSE(out);
    CHECK(out.error().msg == "exec /nonexistent/plugin: No such file or directory");
    CHECK(out.error().errnum == ENOENT);
}

TEST_CASE("findInPath") {
    test::TempDir a, b;
    auto p = writeScript(b, "ipam", "exit 0");
    std::ofstream(a / "ipam") << "not executable";
    ::mkdir((a / "dir").c_str(), 0755);
    auto found = findInPath("ipam", a.path().string() + "::" + b.path().string());
    REQUIRE(found);
    CHECK(*found == p);

    auto missing = findInPath("dir", a.path().string() + ":" + b.path().string());
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == Code::InvalidConfig);
    CHECK(missing.error().msg == "failed to find plugin \"dir\" in path [" + a.path().string() +
                                     " " + b.path().string() + "]");
    for (auto bad : {"../ipam", "/bin/sh", "", ".."}) {
        auto r = findInPath(bad, b.path().string());
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Code::InvalidConfig);
    }
}

TEST_CASE("delegation runs the type from CNI_PATH with CNI_COMMAND overridden") {
    test::TempDir dir;
    writeScript(dir, "fake-ipam", R"(conf=$(cat)
case "$CNI_COMMAND" in
ADD) echo '{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.9.0.4/24","gateway":"10.9.0.1"}]}' ;;
DEL) [ "$CNI_CONTAINERID" = c9 ] || { echo '{"code":3,"msg":"wrong id"}'; exit 1; } ;;
CHECK) echo '{"code":4,"msg":"check failed"}'; exit 1 ;;
*) echo "{\"code\":100,\"msg\":\"$CNI_COMMAND $conf\"}"; exit 1 ;;
esac)");
    ::setenv("CNI_PATH", dir.path().c_str(), 1);
    ::setenv("CNI_COMMAND", "ADD", 1);
    ::setenv("CNI_CONTAINERID", "c9", 1);
    auto r = delegateAdd("fake-ipam", R"({"name":"n"})", "0.3.1");
    REQUIRE(r);
    CHECK(r->ips.at(0).address == "10.9.0.4/24");
    CHECK(r->ips.at(0).gateway == "10.9.0.1");
    CHECK(delegateDel("fake-ipam", "{}"));
    auto check = delegateCheck("fake-ipam", "{}");
    REQUIRE_FALSE(check);
    CHECK(check.error().code == Code::InvalidEnv);
    auto gc = delegateGc("fake-ipam", "gc-config");
    REQUIRE_FALSE(gc);
    CHECK(gc.error().msg == "GC gc-config");
    CHECK_FALSE(delegateStatus("missing-ipam", "{}"));
    for (auto v : {"CNI_PATH", "CNI_COMMAND", "CNI_CONTAINERID"})
        ::unsetenv(v);
}
