// Every plugin against JSON built to crash a parser or cut a string: deep nesting, a byte order
// mark, NUL bytes. The answer must be CNI error JSON (never a signal), with the decode code.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;

namespace {

const std::vector<std::string> kPlugins = {"bridge",   "veth",       "ptp",
                                           "loopback", "host-local", "masquerade",
                                           "portmap",  "tuning",     "bandwidth"};

/// `depth` nested arrays, as text (nlohmann cannot build it without recursing itself).
std::string nested(int depth) {
    return std::string(size_t(depth), '[') + std::string(size_t(depth), ']');
}

PluginRun add(const std::string& plugin, const ScratchNetns& ns, const std::string& stdinText) {
    return runPlugin(binDir() + "/" + plugin, "ADD",
                     {{"CNI_CONTAINERID", "hostile1"},
                      {"CNI_NETNS", ns.path()},
                      {"CNI_IFNAME", "eth0"},
                      {"CNI_PATH", binDir()}},
                     stdinText);
}

void requireDecodeError(const PluginRun& r, const std::string& needle) {
    INFO("stdout: " << r.out << "\nstderr: " << r.err.substr(0, 2000));
    CHECK(r.exitCode != 0);
    CHECK(r.exitCode < 128); // not killed by a signal
    REQUIRE(r.json);
    CHECK(r.json->at("code") == 6);
    CHECK(r.json->at("msg").get<std::string>().find(needle) != std::string::npos);
}

} // namespace

TEST_CASE("150,000 nested arrays under runtimeConfig or args: every plugin says so, none crashes") {
    ScratchNetns ns;
    for (const auto& plugin : kPlugins) {
        for (std::string key : {"runtimeConfig", "args", "prevResult"}) {
            INFO(plugin << " with deep " << key);
            std::string text = R"({"cniVersion":"1.0.0","name":"n","type":")" + plugin + R"(",")" +
                               key + R"(":{"a":)" + nested(150000) + "}}";
            requireDecodeError(add(plugin, ns, text), "exceeded max depth");
        }
    }
}

TEST_CASE("512 levels are accepted, 513 are not") {
    ScratchNetns ns;
    // loopback ignores unknown keys, so the depth limit is the only thing that can refuse these.
    auto conf = [](int depth) {
        return R"({"cniVersion":"1.0.0","name":"n","type":"loopback","x":)" + nested(depth - 1) +
               "}";
    };
    auto ok = add("loopback", ns, conf(512));
    INFO(ok.out << ok.err);
    CHECK(ok.exitCode == 0);
    requireDecodeError(add("loopback", ns, conf(513)), "exceeded max depth");
}

TEST_CASE("a UTF-8 byte order mark, a raw NUL or an escaped NUL in a string is refused") {
    ScratchNetns ns;
    const std::string base = R"({"cniVersion":"1.0.0","name":"n","type":"loopback"})";
    for (const auto& plugin : kPlugins) {
        INFO(plugin);
        std::string conf = R"({"cniVersion":"1.0.0","name":"n","type":")" + plugin + R"("})";
        requireDecodeError(add(plugin, ns, "\xEF\xBB\xBF" + conf), "byte order mark");
        requireDecodeError(add(plugin, ns, conf + std::string(1, '\0')), "NUL");
    }
    // dataDir "/tmp/x\u0000/../etc" would otherwise reach open() as "/tmp/x".
    TempDir data;
    json ipam = {{"type", "host-local"},
                 {"dataDir", data.path().string() + std::string(1, '\0') + "/../etc"},
                 {"ranges", json::array({json::array({{{"subnet", "10.9.0.0/24"}}})})}};
    json conf = {{"cniVersion", "1.0.0"}, {"name", "n"}, {"type", "bridge"}, {"ipam", ipam}};
    requireDecodeError(add("host-local", ns, conf.dump()), "NUL");
    CHECK(std::filesystem::is_empty(data.path()));
}
