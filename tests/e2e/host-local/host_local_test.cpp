// host-local driven as a runtime drives it: results, files on disk, errors, STATUS and GC.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <set>

#include "tests/e2e/host-local/host_local_env.hpp"

using namespace tether::test;
using namespace tether::test::hostlocal;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const json kV4 = {{"ranges", json::array({json::array({{{"subnet", "10.10.0.0/29"}}})})}};
const json kDual = {{"ranges", json::array({json::array({{{"subnet", "10.10.0.0/24"}}}),
                                            json::array({{{"subnet", "fd10::/120"}}})})},
                    {"routes", json::array({{{"dst", "0.0.0.0/0"}}, {{"dst", "::/0"}}})}};

unsigned modeOf(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

} // namespace

TEST_CASE("ADD v4 returns the address, gateway and routes; DEL removes the file") {
    TempDir data;
    json ipam = kV4;
    ipam["routes"] = json::array({{{"dst", "0.0.0.0/0"}, {"gw", "10.10.0.1"}}});
    auto conf = config(data.path().string(), ipam);
    auto add = run(ours(), {}, conf);
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    CHECK(*add.json == json::parse(R"({"cniVersion":"1.0.0",
        "ips":[{"address":"10.10.0.2/29","gateway":"10.10.0.1"}],
        "routes":[{"dst":"0.0.0.0/0","gw":"10.10.0.1"}]})"));
    CHECK(leaseFiles(data.path()) == std::vector<std::string>{"10.10.0.2"});
    CHECK(readFile(data.path() / "net1" / "10.10.0.2") == "c1\r\neth0");
    CHECK(modeOf(data.path() / "net1" / "10.10.0.2") == 0600);
    CHECK(modeOf(data.path() / "net1") == 0755);

    auto check = run(ours(), {.command = "CHECK"}, conf);
    CHECK(check.exitCode == 0);
    auto del = run(ours(), {.command = "DEL"}, conf);
    CHECK(del.exitCode == 0);
    CHECK(del.out.empty());
    CHECK(leaseFiles(data.path()).empty());
    auto del2 = run(ours(), {.command = "DEL"}, conf);
    CHECK(del2.exitCode == 0);
    auto check2 = run(ours(), {.command = "CHECK"}, conf);
    CHECK(check2.exitCode != 0);
    CHECK(check2.json->at("msg").get<std::string>().find("c1") != std::string::npos);
}

TEST_CASE("ADD IPv6 and dual stack") {
    TempDir data;
    auto v6 = run(ours(), {},
                  config(data.path().string(),
                         {{"ranges", json::array({json::array({{{"subnet", "fd00:1::/64"}}})})}}));
    REQUIRE(v6.exitCode == 0);
    CHECK(v6.json->at("ips") ==
          json::parse(R"([{"address":"fd00:1::2/64","gateway":"fd00:1::1"}])"));

    TempDir data2;
    auto dual = run(ours(), {}, config(data2.path().string(), kDual));
    REQUIRE(dual.exitCode == 0);
    CHECK(dual.json->at("ips") == json::parse(R"([{"address":"10.10.0.2/24","gateway":"10.10.0.1"},
        {"address":"fd10::2/120","gateway":"fd10::1"}])"));
    CHECK(leaseFiles(data2.path()) == std::vector<std::string>{"10.10.0.2", "fd10::2"});
    CHECK(run(ours(), {.command = "DEL"}, config(data2.path().string(), kDual)).exitCode == 0);
    CHECK(leaseFiles(data2.path()).empty());
}

TEST_CASE("every cniVersion gets its own result shape") {
    for (std::string v : {"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        SECTION(v) {
            TempDir data;
            auto add = run(ours(), {}, config(data.path().string(), kDual, v));
            INFO(add.out);
            REQUIRE(add.exitCode == 0);
            const json& r = *add.json;
            CHECK(r["cniVersion"] == v);
            if (v == "0.1.0" || v == "0.2.0") {
                CHECK(r["ip4"]["ip"] == "10.10.0.2/24");
                CHECK(r["ip4"]["gateway"] == "10.10.0.1");
                CHECK(r["ip6"]["ip"] == "fd10::2/120");
                CHECK_FALSE(r.contains("ips"));
            } else {
                REQUIRE(r["ips"].size() == 2);
                CHECK(r["ips"][0]["address"] == "10.10.0.2/24");
                CHECK_FALSE(r["ips"][0].contains("interface"));
                CHECK_FALSE(r.contains("interfaces"));
                if (v.starts_with("0.")) {
                    CHECK(r["ips"][0]["version"] == "4");
                    CHECK(r["ips"][1]["version"] == "6");
                } else {
                    CHECK_FALSE(r["ips"][0].contains("version"));
                }
                CHECK(r["routes"].size() == 2);
            }
        }
    }
}

TEST_CASE("requested addresses via CNI_ARGS, args.cni.ips and runtimeConfig.ips") {
    TempDir data;
    auto conf = config(data.path().string(), kDual);
    auto add =
        run(ours(), {.cniArgs = "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.10.0.50,fd10::50"}, conf);
    INFO(add.out);
    REQUIRE(add.exitCode == 0);
    CHECK(add.json->at("ips")[0]["address"] == "10.10.0.50/24");
    CHECK(add.json->at("ips")[1]["address"] == "fd10::50/120");

    auto conf2 = conf;
    conf2["runtimeConfig"] = {{"ips", json::array({"10.10.0.60/24"})}};
    auto add2 = run(ours(), {.containerId = "c2"}, conf2);
    REQUIRE(add2.exitCode == 0);
    CHECK(add2.json->at("ips")[0]["address"] == "10.10.0.60/24");

    auto conf3 = conf;
    conf3["args"] = {{"cni", {{"ips", json::array({"10.10.0.50"})}}}};
    auto taken = run(ours(), {.containerId = "c3"}, conf3);
    CHECK(taken.exitCode == 1);
    CHECK(taken.json->at("msg").get<std::string>().find("10.10.0.50 is not available") !=
          std::string::npos);
    auto outside = run(ours(), {.containerId = "c4", .cniArgs = "IP=192.168.1.1"}, conf);
    CHECK(outside.exitCode == 1);
    CHECK(outside.json->at("msg") == "failed to allocate all requested IPs: 192.168.1.1");
    // Failures released what they had reserved: only c1's and c2's addresses remain (c2's
    // IPv6 address follows c1's round robin).
    CHECK(leaseFiles(data.path()) ==
          std::vector<std::string>{"10.10.0.50", "10.10.0.60", "fd10::50", "fd10::51"});
}

TEST_CASE("an exhausted range is a CNI error and nothing of the failed ADD stays") {
    TempDir data;
    json ipam = {{"ranges", json::array({json::array({{{"subnet", "fd20::/120"}}}),
                                         json::array({{{"subnet", "10.10.0.0/30"}}})})}};
    auto conf = config(data.path().string(), ipam);
    REQUIRE(run(ours(), {.containerId = "a"}, conf).exitCode == 0);
    auto full = run(ours(), {.containerId = "b"}, conf);
    REQUIRE(full.exitCode == 1);
    REQUIRE(full.json);
    CHECK(full.json->at("code") == 101);
    CHECK(full.json->at("msg") ==
          "failed to allocate for range 1: no IP addresses available in range set: "
          "10.10.0.1-10.10.0.2");
    CHECK(full.json->at("cniVersion") == "1.0.0");
    CHECK(leaseFiles(data.path()) == std::vector<std::string>{"10.10.0.2", "fd20::2"});
}

TEST_CASE("a second ADD of the same attachment is refused") {
    TempDir data;
    auto conf = config(data.path().string(), kV4);
    REQUIRE(run(ours(), {}, conf).exitCode == 0);
    auto again = run(ours(), {}, conf);
    CHECK(again.exitCode == 1);
    CHECK(again.json->at("msg").get<std::string>().find("duplicate allocation is not allowed") !=
          std::string::npos);
    CHECK(run(ours(), {.ifname = "eth1"}, conf).exitCode == 0);
    CHECK(leaseFiles(data.path()).size() == 2);
}

TEST_CASE("resolvConf fills the result's dns") {
    TempDir data;
    std::ofstream(data / "resolv.conf") << "# comment\nnameserver 10.0.0.53\nnameserver fd00::53\n"
                                           "domain example.org\nsearch a.example b.example\n"
                                           "options ndots:2 edns0\n";
    json ipam = kV4;
    ipam["resolvConf"] = data / "resolv.conf";
    auto add = run(ours(), {}, config((data.path() / "store").string(), ipam));
    REQUIRE(add.exitCode == 0);
    CHECK(add.json->at("dns") == json::parse(R"({"nameservers":["10.0.0.53","fd00::53"],
        "domain":"example.org","search":["a.example","b.example"],"options":["ndots:2","edns0"]})"));
}

TEST_CASE("bad input: right code, message naming the field, nothing written") {
    TempDir data;
    const std::string dir = data.path().string();
    struct Case {
        std::string name;
        std::string stdinData;
        Call call;
        int code;
        std::string msgPart;
    };
    auto cfg = [&](json ipam, std::string v = "1.0.0") { return config(dir, ipam, v).dump(); };
    auto ranges = [](json r) { return json{{"ranges", json::array({json::array({r})})}}; };
    std::vector<Case> cases = {
        {"malformed JSON", "{\"cniVersion\":", {}, 6, ""},
        {"wrong type", cfg(ranges({{"subnet", 5}})), {}, 6, "ipam.ranges[0][0].subnet"},
        {"unknown version", cfg(kV4, "9.9.9"), {}, 1, "incompatible CNI versions"},
        {"/33",
         cfg(ranges({{"subnet", "10.0.0.0/33"}})),
         {},
         7,
         "invalid CIDR address: 10.0.0.0/33"},
        {"/31",
         cfg(ranges({{"subnet", "10.0.0.0/31"}})),
         {},
         7,
         "network 10.0.0.0/31 too small to allocate from"},
        {"host bits", cfg(ranges({{"subnet", "10.0.0.1/24"}})), {}, 7, "host bits"},
        {"rangeStart outside",
         cfg(ranges({{"subnet", "10.0.0.0/24"}, {"rangeStart", "10.1.0.1"}})),
         {},
         7,
         "rangeStart"},
        {"overlapping range sets",
         cfg({{"ranges", json::array({json::array({{{"subnet", "10.0.0.0/24"}}}),
                                      json::array({{{"subnet", "10.0.0.0/16"}}})})}}),
         {},
         7,
         "range set 0 overlaps with 1"},
        {"no ranges", cfg(json::object()), {}, 7, "no IP ranges specified"},
        {"missing env", cfg(kV4), {.containerId = ""}, 4, "CNI_CONTAINERID"},
        {"container ID with ../", cfg(kV4), {.containerId = "../../etc"}, 4, ""},
        {"ifname too long", cfg(kV4), {.ifname = "eth0123456789abcdef"}, 4, ""},
        {"bad CNI_ARGS IP", cfg(kV4), {.cniArgs = "IP=300.1.1.1"}, 4, "CNI_ARGS IP"},
        {"network name with /",
         json{{"cniVersion", "1.0.0"},
              {"name", "../x"},
              {"ipam", {{"dataDir", dir}, {"subnet", "10.0.0.0/24"}}}}
             .dump(),
         {},
         7,
         ""},
    };
    for (const Case& c : cases) {
        SECTION(c.name) {
            auto r = runPlugin(ours(), "ADD",
                               {{"CNI_CONTAINERID", c.call.containerId},
                                {"CNI_NETNS", "/proc/self/ns/net"},
                                {"CNI_NETNS_OVERRIDE", "1"},
                                {"CNI_IFNAME", c.call.ifname},
                                {"CNI_ARGS", c.call.cniArgs},
                                {"CNI_PATH", "/usr/lib/cni"}},
                               c.stdinData);
            INFO(r.out << r.err);
            CHECK(r.exitCode == 1);
            REQUIRE(r.json);
            CHECK(r.json->at("code") == c.code);
            CHECK(r.json->at("msg").get<std::string>().find(c.msgPart) != std::string::npos);
            CHECK(fs::is_empty(data.path()));
        }
    }
}

TEST_CASE("DEL releases even when the ranges no longer validate") {
    TempDir data;
    REQUIRE(run(ours(), {}, config(data.path().string(), kV4)).exitCode == 0);
    json broken = {{"ranges", json::array({json::array({{{"subnet", "10.10.0.0/31"}}})})}};
    auto del = run(ours(), {.command = "DEL", .cniArgs = "IP=nonsense"},
                   config(data.path().string(), broken));
    INFO(del.out);
    CHECK(del.exitCode == 0);
    CHECK(leaseFiles(data.path()).empty());
    auto noIpam = runPlugin(ours(), "DEL",
                            {{"CNI_CONTAINERID", "c1"}, {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/x"}},
                            R"({"cniVersion":"1.0.0","name":"net1"})");
    CHECK(noIpam.exitCode == 1);
    CHECK(noIpam.json->at("msg") == "IPAM config missing 'ipam' key");
}

TEST_CASE("DEL without any store directory succeeds and creates nothing") {
    TempDir data;
    auto conf = config((data.path() / "none").string(), kV4);
    auto del = run(ours(), {.command = "DEL"}, conf);
    CHECK(del.exitCode == 0);
    CHECK_FALSE(fs::exists(data.path() / "none"));
}

TEST_CASE("STATUS: ready, then code 50 when a range set is full or the store unwritable") {
    TempDir data;
    json ipam = {{"ranges", json::array({json::array({{{"subnet", "10.10.0.0/30"}}})})}};
    auto conf = config(data.path().string(), ipam, "1.1.0");
    CHECK(run(ours(), {.command = "STATUS"}, conf).exitCode == 0);
    REQUIRE(run(ours(), {}, conf).exitCode == 0);
    auto full = run(ours(), {.command = "STATUS"}, conf);
    CHECK(full.exitCode == 1);
    CHECK(full.json->at("code") == 50);
    CHECK(full.json->at("msg").get<std::string>().find("no IP addresses available") !=
          std::string::npos);
    auto old = run(ours(), {.command = "STATUS"}, config(data.path().string(), ipam, "1.0.0"));
    CHECK(old.json->at("code") == 1);
}

TEST_CASE("GC releases reservations of attachments that are not valid any more") {
    TempDir data;
    auto conf = config(data.path().string(), kDual, "1.1.0");
    for (std::string id : {"keep", "drop"})
        REQUIRE(run(ours(), {.containerId = id}, conf).exitCode == 0);
    // A reservation written by some earlier implementation, and a leftover empty file.
    std::ofstream(data.path() / "net1" / "10.10.0.99") << "legacy-gone";
    std::ofstream(data.path() / "net1" / "10.10.0.98");
    auto gcConf = conf;
    gcConf["cni.dev/valid-attachments"] =
        json::array({{{"containerID", "keep"}, {"ifname", "eth0"}}});
    auto gc = runPlugin(ours(), "GC", {{"CNI_PATH", "/usr/lib/cni"}}, gcConf.dump());
    INFO(gc.out << gc.err);
    CHECK(gc.exitCode == 0);
    CHECK(leaseFiles(data.path()) == std::vector<std::string>{"10.10.0.2", "fd10::2"});
    CHECK(readFile(data.path() / "net1" / "10.10.0.2") == "keep\r\neth0");

    auto older = conf;
    older["cni.dev/attachments"] = json::array();
    CHECK(runPlugin(ours(), "GC", {{"CNI_PATH", "/usr/lib/cni"}}, older.dump()).exitCode == 0);
    CHECK(leaseFiles(data.path()).empty());
}

TEST_CASE("50 concurrent ADDs never hand out an address twice") {
    TempDir data;
    json ipam = {{"ranges", json::array({json::array({{{"subnet", "10.20.0.0/24"}}})})}};
    auto results = parallelAdds(50, {ours()}, config(data.path().string(), ipam));
    std::set<std::string> seen;
    for (auto& [code, out] : results) {
        INFO(out);
        REQUIRE(code == 0);
        seen.insert(json::parse(out)["ips"][0]["address"].get<std::string>());
    }
    CHECK(seen.size() == 50);
    CHECK(leaseFiles(data.path()).size() == 50);
}
