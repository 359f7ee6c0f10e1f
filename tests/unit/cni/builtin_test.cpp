// In-process delegation: a registered plugin runs in-process only when CNI_PATH resolves its type
// to this very executable; any other binary of that name is executed. What the caller sees
// (result, error JSON, environment seen by the handler) is the same either way.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "cni/builtin.hpp"
#include "cni/invoke.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::cni;

namespace {

/// A handler that reports how it was run: its thread's pid and the env it saw.
PluginFuncs markerFuncs() {
    return {.add = [](const CmdArgs& a) -> Expected<Result> {
                Result r;
                r.cniVersion = a.conf.cniVersion;
                r.ips.push_back({.address = "10.1.2.3/24", .gateway = ""});
                r.dns.domain = "pid-" + std::to_string(::getpid()) + "-" + a.containerId;
                return r;
            },
            .del = [](const CmdArgs&) -> Status {
                return fail(Code::Conflict, "del refused", "by builtin");
            },
            .check = {},
            .status = {},
            .gc = {}};
}

} // namespace

TEST_CASE("a registered type runs in-process only when CNI_PATH resolves it to this executable") {
    registerBuiltinPlugin("marker-ipam", markerFuncs(), {.about = "marker"});
    test::TempDir self, other;
    std::filesystem::create_symlink(std::filesystem::read_symlink("/proc/self/exe"),
                                    self.path() / "marker-ipam");
    ::setenv("CNI_COMMAND", "ADD", 1);
    ::setenv("CNI_CONTAINERID", "c1", 1);
    ::setenv("CNI_NETNS", "/proc/self/ns/net", 1);
    ::setenv("CNI_NETNS_OVERRIDE", "1", 1);
    ::setenv("CNI_IFNAME", "eth0", 1);
    const char* conf = R"({"cniVersion":"1.0.0","name":"n","type":"marker-ipam"})";

    ::setenv("CNI_PATH", self.path().c_str(), 1);
    auto inProcess = delegateAdd("marker-ipam", conf, "1.0.0");
    REQUIRE(inProcess);
    CHECK(inProcess->ips.at(0).address == "10.1.2.3/24");
    CHECK(inProcess->dns.domain == "pid-" + std::to_string(::getpid()) + "-c1");
    // Errors come back exactly as a plugin's error JSON would.
    auto del = delegateDel("marker-ipam", conf);
    REQUIRE_FALSE(del);
    CHECK(del.error().code == Code::Conflict);
    CHECK(del.error().msg == "del refused");
    CHECK(del.error().details == "by builtin");

    // Another binary with the same name is executed, never replaced by the builtin.
    {
        std::ofstream f(other / "marker-ipam");
        f << "#!/bin/sh\ncat >/dev/null\necho "
             "'{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.9.9.9/24\"}]}'\n";
    }
    std::filesystem::permissions(other / "marker-ipam", std::filesystem::perms::owner_all);
    ::setenv("CNI_PATH", other.path().c_str(), 1);
    auto executed = delegateAdd("marker-ipam", conf, "1.0.0");
    REQUIRE(executed);
    CHECK(executed->ips.at(0).address == "10.9.9.9/24");

    for (auto v : {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_NETNS_OVERRIDE",
                   "CNI_IFNAME", "CNI_PATH"})
        ::unsetenv(v);
}
