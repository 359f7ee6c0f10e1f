// build/bin/host-device driven as a runtime would, side by side with /usr/lib/cni/host-device.
// The "host" is the test's own netns (ctest unshares it). This kernel has no dummy devices, so
// the host devices are veth ends whose peers sit in a "LAN" netns.
#include <sys/stat.h>
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

const char* kRef = "/usr/lib/cni/host-device";

struct Plugins {
    TempDir dir;
    explicit Plugins(bool ours) {
        fs::create_symlink(ours ? binDir() + "/host-device" : kRef, dir.path() / "host-device");
        fs::create_symlink(binDir() + "/host-local", dir.path() / "host-local");
    }
};

// A host device `name` (MTU 1400, 10.70.<n>.5/24, up, alias "uplink") whose veth peer is in
// the LAN netns with 10.70.<n>.200/24.
struct HostDev {
    ScratchNetns lan;
    std::string name;
    HostDev(std::string n, int net) : name(std::move(n)) {
        REQUIRE(execHere({"ip", "link", "add", name, "mtu", "1400", "type", "veth", "peer", "name",
                          "p0", "netns", lan.path()})
                    .exitCode == 0);
        execHere({"ip", "link", "set", name, "up", "alias", "uplink"});
        REQUIRE(execHere({"ip", "addr", "add", addr(net, 5), "dev", name}).exitCode == 0);
        REQUIRE(lan.exec({"ip", "link", "set", "p0", "up"}).exitCode == 0);
        REQUIRE(lan.exec({"ip", "addr", "add", addr(net, 200), "dev", "p0"}).exitCode == 0);
    }
    ~HostDev() { execHere({"ip", "link", "del", name}); }
    static std::string addr(int net, int host) {
        return "10.70." + std::to_string(net) + "." + std::to_string(host) + "/24";
    }
};

json conf(const std::string& version, const json& keys, const std::string& dataDir = "") {
    json c = {{"cniVersion", version}, {"name", "hdnet"}, {"type", "host-device"}};
    c.update(keys);
    if (!dataDir.empty()) c["dataDir"] = dataDir;
    return c;
}

json withIpam(json c, int net, const std::string& dir) {
    c["ipam"] = {{"type", "host-local"},
                 {"subnet", "10.70." + std::to_string(net) + ".0/24"},
                 {"rangeStart", "10.70." + std::to_string(net) + ".10"},
                 {"dataDir", dir}};
    return c;
}

PluginRun call(const Plugins& p, const std::string& cmd, const std::string& id,
               const std::string& netns, const json& c) {
    return runPlugin(p.dir / "host-device", cmd,
                     {{"CNI_CONTAINERID", id},
                      {"CNI_NETNS", netns},
                      {"CNI_IFNAME", "net1"},
                      {"CNI_PATH", p.dir.path().string()}},
                     c.dump());
}

// `ip -d -j link show NAME` in the host, or null when there is no such link.
json hostLink(const std::string& name) {
    auto r = execHere({"ip", "-d", "-j", "link", "show", name});
    return r.exitCode == 0 ? r.json()[0] : json();
}

std::vector<std::string> v4(const std::string& name, const ScratchNetns* ns = nullptr) {
    std::vector<std::string> argv = {"ip", "-j", "-4", "addr", "show", name};
    auto r = ns ? ns->exec(argv) : execHere(argv);
    std::vector<std::string> out;
    if (r.exitCode != 0) return out;
    for (const auto& l : r.json())
        for (const auto& a : l["addr_info"])
            out.push_back(a["local"].get<std::string>() + "/" +
                          std::to_string(a["prefixlen"].get<int>()));
    return out;
}

bool isUp(const json& link) {
    return std::find(link["flags"].begin(), link["flags"].end(), "UP") != link["flags"].end();
}

// The device the way the host had it: name, MTU, address, up, alias.
void checkRestored(const std::string& name, int net) {
    json l = hostLink(name);
    REQUIRE(!l.is_null());
    CHECK(l["mtu"] == 1400);
    CHECK(isUp(l));
    CHECK(l.value("ifalias", "") == "uplink");
    CHECK(v4(name) == std::vector<std::string>{HostDev::addr(net, 5)});
}

} // namespace

TEST_CASE("host-device: moved in as CNI_IFNAME like the reference, restored on DEL",
          "[host-device]") {
    REQUIRE(::access(kRef, X_OK) == 0);
    HostDev d0("hd0", 0), d1("hd1", 1);
    Plugins ours(true), ref(false);
    TempDir state, ip0, ip1;
    ScratchNetns a, b;
    json ca = withIpam(conf("1.0.0", {{"device", "hd0"}}, state.path()), 0, ip0.path());
    json cb = withIpam(conf("1.0.0", {{"device", "hd1"}}), 1, ip1.path());
    auto add = call(ours, "ADD", "ha", a.path(), ca);
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    auto refAdd = call(ref, "ADD", "hb", b.path(), cb);
    INFO(refAdd.out << refAdd.err);
    REQUIRE(refAdd.exitCode == 0);
    json res = *add.json, refRes = *refAdd.json;
    REQUIRE(res["interfaces"].size() == 1);
    CHECK(refRes["interfaces"].size() == 1);
    CHECK(res["interfaces"][0]["name"] == "net1");
    CHECK(res["interfaces"][0]["sandbox"] == a.path());
    CHECK(res["ips"][0]["interface"] == refRes["ips"][0]["interface"]);
    CHECK(res["ips"][0]["address"] == "10.70.0.10/24");

    // Gone from the host, in the container as net1: same MAC, MTU kept, up, the address.
    CHECK(hostLink("hd0").is_null());
    json la = a.exec({"ip", "-d", "-j", "link", "show", "net1"}).json()[0];
    json lb = b.exec({"ip", "-d", "-j", "link", "show", "net1"}).json()[0];
    CHECK(la["address"] == res["interfaces"][0]["mac"]);
    CHECK(la["mtu"] == 1400);
    CHECK(la["mtu"] == lb["mtu"]);
    CHECK(isUp(la) == isUp(lb));
    CHECK(la.value("ifalias", "") == "hd0"); // both keep the original name as the alias
    CHECK(lb.value("ifalias", "") == "hd1");
    CHECK(v4("net1", &a) == std::vector<std::string>{"10.70.0.10/24"});
    CHECK(a.exec({"ping", "-c1", "-W2", "10.70.0.200"}).exitCode == 0);

    json prev = ca;
    prev["prevResult"] = res;
    CHECK(call(ours, "CHECK", "ha", a.path(), prev).exitCode == 0);

    CHECK(call(ours, "DEL", "ha", a.path(), prev).exitCode == 0);
    CHECK(a.exec({"ip", "link", "show", "net1"}).exitCode != 0);
    checkRestored("hd0", 0);
    CHECK(fs::is_empty(state.path()));
    CHECK(!fs::exists(ip0.path() / "hdnet" / "10.70.0.10"));
    CHECK(call(ours, "DEL", "ha", a.path(), prev).exitCode == 0); // idempotent
    checkRestored("hd0", 0);

    // The reference gives back the name only (down, no address): ours restores more.
    json refPrev = cb;
    refPrev["prevResult"] = refRes;
    CHECK(call(ref, "DEL", "hb", b.path(), refPrev).exitCode == 0);
    CHECK(!hostLink("hd1").is_null());
}

TEST_CASE("host-device: found by hwaddr and kernelpath; every spec version", "[host-device]") {
    HostDev d0("aa0", 2);
    Plugins ours(true);
    TempDir state;
    std::string mac = hostLink("aa0")["address"];
    std::string upper = mac;
    for (auto& ch : upper)
        ch = char(std::toupper(ch));
    for (std::string v : {"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
        INFO("version " << v);
        TempDir ip;
        ScratchNetns a;
        json c = withIpam(conf(v, {{"hwaddr", upper}}, state.path()), 2, ip.path());
        auto add = call(ours, "ADD", "hw", a.path(), c);
        INFO(add.out);
        REQUIRE(add.exitCode == 0);
        CHECK((*add.json)["cniVersion"] == v);
        CHECK(a.exec({"ip", "link", "show", "net1"}).exitCode == 0);
        CHECK(call(ours, "DEL", "hw", a.path(), c).exitCode == 0);
        checkRestored("aa0", 2);
    }

    // kernelpath: the devices under <path>/net, first by name. A sysfs mounted in our private
    // mount namespace shows this netns's devices (ctest runs us under unshare --mount).
    struct stat self = {}, parent = {};
    REQUIRE(::stat("/proc/self/ns/mnt", &self) == 0);
    REQUIRE(::stat(("/proc/" + std::to_string(::getppid()) + "/ns/mnt").c_str(), &parent) == 0);
    REQUIRE(self.st_ino != parent.st_ino); // never remount the host's /sys (ctest's mount ns)
    REQUIRE(execHere({"mount", "-t", "sysfs", "sysfs", "/sys"}).exitCode == 0);
    ScratchNetns k;
    json ck = conf("1.0.0", {{"kernelpath", "/sys/devices/virtual"}}, state.path());
    auto add = call(ours, "ADD", "kp", k.path(), ck);
    INFO(add.out);
    CHECK(add.exitCode == 0);
    CHECK(k.exec({"ip", "link", "show", "net1"}).exitCode == 0);
    CHECK(call(ours, "DEL", "kp", k.path(), ck).exitCode == 0);
    execHere({"umount", "/sys"});
    checkRestored("aa0", 2);
}

TEST_CASE("host-device: DEL after the container netns is gone", "[host-device]") {
    Plugins ours(true);
    TempDir state;
    SECTION("a virtual device dies with the netns: DEL succeeds, nothing left") {
        HostDev d("hd5", 5);
        std::string path;
        json c = conf("1.0.0", {{"device", "hd5"}}, state.path());
        {
            ScratchNetns a;
            path = a.path();
            REQUIRE(call(ours, "ADD", "g1", a.path(), c).exitCode == 0);
        }
        // The kernel destroys a veth end in a dying netns, and with it the peer: hd5 is gone.
        CHECK(hostLink("hd5").is_null());
        // The netns is cleaned up by a kernel worker shortly after its last reference goes.
        bool peerGone = false;
        for (int i = 0; i < 50 && !peerGone; ++i) {
            peerGone = d.lan.exec({"ip", "link", "show", "p0"}).exitCode != 0;
            if (!peerGone) ::usleep(100 * 1000);
        }
        CHECK(peerGone);
        CHECK(call(ours, "DEL", "g1", path, c).exitCode == 0);
        CHECK(fs::is_empty(state.path()));
    }
    SECTION("a device the kernel gave back to the host is renamed and restored") {
        // What the kernel does with a physical device of a dying netns (it moves it to the
        // initial netns, under its container name, or "devN" when that name is taken), done by
        // hand.
        HostDev d("hd6", 6);
        json c = conf("1.0.0", {{"device", "hd6"}}, state.path());
        std::string path;
        for (std::string asName : {"net1", "dev7"}) {
            INFO("returned as " << asName);
            {
                ScratchNetns a;
                path = a.path();
                REQUIRE(call(ours, "ADD", "g2", a.path(), c).exitCode == 0);
                REQUIRE(a.exec({"ip", "link", "set", "net1", "name", asName}).exitCode == 0);
                REQUIRE(a.exec({"ip", "link", "set", asName, "netns", std::to_string(::getpid())})
                            .exitCode == 0);
            }
            CHECK(!hostLink(asName).is_null());
            auto del = call(ours, "DEL", "g2", path, c);
            INFO(del.out);
            CHECK(del.exitCode == 0);
            CHECK(hostLink(asName).is_null());
            checkRestored("hd6", 6);
            CHECK(fs::is_empty(state.path()));
        }
    }
}

TEST_CASE("host-device: bad input is refused before anything changes", "[host-device]") {
    HostDev d("hd8", 8);
    Plugins ours(true);
    TempDir state;
    ScratchNetns a;
    struct Bad {
        json keys;
        int code;
        std::string word;
    };
    for (const auto& bad : std::vector<Bad>{
             {json::object(), 7, "specify either"},
             {{{"device", "nosuch0"}}, 7, "nosuch0"},
             {{{"hwaddr", "zz:zz"}}, 7, "zz:zz"},
             {{{"hwaddr", "02:99:99:99:99:99"}}, 7, "02:99:99:99:99:99"},
             {{{"kernelpath", "/etc"}}, 7, "/sys/devices/"},
             {{{"pciBusID", "0000:99:00.0"}}, 7, "0000:99:00.0"},
             {{{"pciBusID", "0000:99:00.0"}, {"runtimeConfig", {{"deviceID", "0000:98:00.1"}}}},
              7,
              "0000:98:00.1"},
             {{{"device", 5}}, 6, "device"}}) {
        INFO(bad.keys.dump());
        auto r = call(ours, "ADD", "bad", a.path(), conf("1.0.0", bad.keys, state.path()));
        CHECK(r.exitCode == 1);
        REQUIRE(r.json);
        CHECK((*r.json)["code"] == bad.code);
        CHECK((*r.json)["msg"].get<std::string>().find(bad.word) != std::string::npos);
        checkRestored("hd8", 8);
    }
    // 0.1.0 without ipam: the result could not say anything; refused, the device stays.
    auto old = call(ours, "ADD", "bad", a.path(), conf("0.1.0", {{"device", "hd8"}}, state.path()));
    CHECK((*old.json)["code"] == 1);
    checkRestored("hd8", 8);
    // CNI_IFNAME taken in the container: code 102, the device stays in the host untouched.
    REQUIRE(a.exec({"ip", "link", "add", "net1", "type", "veth", "peer", "name", "x1"}).exitCode ==
            0);
    auto r = call(ours, "ADD", "bad", a.path(), conf("1.0.0", {{"device", "hd8"}}, state.path()));
    CHECK(r.exitCode == 1);
    CHECK((*r.json)["code"] == 102);
    checkRestored("hd8", 8);
    CHECK((!fs::exists(state.path()) || fs::is_empty(state.path())));
}

TEST_CASE("host-device: ours and the reference undo each other's ADD", "[host-device]") {
    REQUIRE(::access(kRef, X_OK) == 0);
    HostDev d("hd9", 9);
    Plugins ours(true), ref(false);
    TempDir state;
    json c = conf("1.0.0", {{"device", "hd9"}}, state.path());
    {
        // Ours in, the reference out: it renames the device back from the alias we set.
        ScratchNetns a;
        REQUIRE(call(ours, "ADD", "x1", a.path(), c).exitCode == 0);
        CHECK(call(ref, "DEL", "x1", a.path(), c).exitCode == 0);
        CHECK(!hostLink("hd9").is_null());
        CHECK(call(ours, "DEL", "x1", a.path(), c).exitCode == 0); // finishes the restore
        checkRestored("hd9", 9);
        CHECK(fs::is_empty(state.path()));
    }
    {
        // The reference in, ours out: no state file, the alias names the device.
        ScratchNetns a;
        REQUIRE(call(ref, "ADD", "x2", a.path(), c).exitCode == 0);
        auto del = call(ours, "DEL", "x2", a.path(), c);
        INFO(del.out);
        CHECK(del.exitCode == 0);
        CHECK(!hostLink("hd9").is_null());
        CHECK(a.exec({"ip", "link", "show", "net1"}).exitCode != 0);
    }
}

TEST_CASE("host-device: ifb and macvlan devices go and come back too", "[host-device]") {
    HostDev parent("hdp", 12); // the macvlan's parent
    Plugins ours(true);
    TempDir state;
    int net = 10;
    for (std::vector<std::string> make :
         {std::vector<std::string>{"type", "ifb"},
          std::vector<std::string>{"link", "hdp", "type", "macvlan"}}) {
        const std::string name = "hdx" + std::to_string(net);
        INFO(name << " " << make.back());
        std::vector<std::string> argv = {"ip", "link", "add", name, "mtu", "1400"};
        argv.insert(argv.end(), make.begin(), make.end());
        REQUIRE(execHere(argv).exitCode == 0);
        REQUIRE(execHere({"ip", "link", "set", name, "up", "alias", "uplink"}).exitCode == 0);
        REQUIRE(execHere({"ip", "addr", "add", HostDev::addr(net, 5), "dev", name}).exitCode == 0);
        ScratchNetns a;
        json c = conf("1.0.0", {{"device", name}}, state.path());
        auto add = call(ours, "ADD", "k" + name, a.path(), c);
        INFO(add.out);
        REQUIRE(add.exitCode == 0);
        json l = a.exec({"ip", "-d", "-j", "link", "show", "net1"}).json()[0];
        CHECK(l["linkinfo"]["info_kind"] == make.back());
        CHECK(isUp(l));
        CHECK(hostLink(name).is_null());
        CHECK(call(ours, "DEL", "k" + name, a.path(), c).exitCode == 0);
        checkRestored(name, net);
        execHere({"ip", "link", "del", name});
        ++net;
    }
}
