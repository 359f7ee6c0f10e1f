// bridge delegating to static by ipam.type: the container gets the configured addresses and
// routes, the gateway answers, and DEL leaves no veth behind. With our static (run in-process,
// cni/builtin.hpp) and with the reference's.
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> addressesIn(const ScratchNetns& ns, const std::string& ifname) {
    std::vector<std::string> out;
    for (const auto& l : ns.exec({"ip", "-j", "addr", "show", "dev", ifname}).json())
        for (const auto& a : l["addr_info"])
            if (a["scope"] == "global")
                out.push_back(a["local"].get<std::string>() + "/" +
                              std::to_string(a["prefixlen"].get<int>()));
    return out;
}

size_t hostVeths() {
    return execHere({"ip", "-j", "link", "show", "type", "veth"}).json().size();
}

} // namespace

TEST_CASE("bridge with static IPAM configures the container", "[static][bridge]") {
    for (bool ourStatic : {true, false}) {
        if (!ourStatic && ::access("/usr/lib/cni/static", X_OK) != 0)
            FAIL("reference static missing from /usr/lib/cni");
        DYNAMIC_SECTION((ourStatic ? "our static (in-process)" : "reference static")) {
            TempDir dir;
            fs::create_symlink(binDir() + "/bridge", dir / "bridge");
            fs::create_symlink(ourStatic ? binDir() + "/static" : "/usr/lib/cni/static",
                               dir / "static");
            ScratchNetns ns;
            json c = {{"cniVersion", "1.0.0"},
                      {"name", "snet"},
                      {"type", "bridge"},
                      {"bridge", ourStatic ? "tbr-st1" : "tbr-st2"},
                      {"isGateway", true},
                      {"ipam",
                       {{"type", "static"},
                        {"addresses",
                         {{{"address", "10.30.0.5/24"}, {"gateway", "10.30.0.1"}},
                          {{"address", "fd00:30::5/64"}}}},
                        {"routes", {{{"dst", "0.0.0.0/0"}}}}}}};
            std::vector<std::pair<std::string, std::string>> env = {
                {"CNI_CONTAINERID", "st1"},
                {"CNI_IFNAME", "eth0"},
                {"CNI_PATH", dir.path().string()},
                {"CNI_NETNS", ns.path()}};
            auto add = runPlugin(dir / "bridge", "ADD", env, c.dump());
            INFO(add.out << add.err);
            REQUIRE(add.exitCode == 0);
            REQUIRE(add.json);
            CHECK(addressesIn(ns, "eth0") ==
                  std::vector<std::string>{"10.30.0.5/24", "fd00:30::5/64"});
            auto routes = ns.exec({"ip", "-j", "-4", "route", "show", "default"}).json();
            REQUIRE(routes.size() == 1);
            CHECK(routes[0]["gateway"] == "10.30.0.1");
            CHECK(ns.exec({"ping", "-c1", "-W2", "10.30.0.1"}).exitCode == 0);
            c["prevResult"] = *add.json;
            CHECK(runPlugin(dir / "bridge", "CHECK", env, c.dump()).exitCode == 0);
            CHECK(runPlugin(dir / "bridge", "DEL", env, c.dump()).exitCode == 0);
            CHECK(hostVeths() == 0);
            CHECK(runPlugin(dir / "bridge", "DEL", env, c.dump()).exitCode == 0);
            execHere({"ip", "link", "del", ourStatic ? "tbr-st1" : "tbr-st2"});
        }
    }
}
