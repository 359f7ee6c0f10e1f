// build/bin/tap driven as a runtime would. The reference tap is not packaged on Debian 12
// (containernetworking-plugins 1.1.1 predates it), so the expectations are the kernel state the
// reference produces (docs/plugins/tap.md): what /sys/class/net/<tap>/{tun_flags,owner,group}
// and `ip -d link` show, and who may attach to the device.
#include <fcntl.h>
#include <grp.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/support/plugin_runner.hpp"
#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json conf(const json& extra = {}) {
    json c = {{"cniVersion", "1.0.0"}, {"name", "tapnet"}, {"type", "tap"}};
    if (!extra.is_null()) c.update(extra);
    return c;
}

PluginRun call(const std::string& cmd, const std::string& netns, const json& c,
               const std::string& cniArgs = "", const std::string& ifname = "tap0") {
    std::vector<std::pair<std::string, std::string>> env = {{"CNI_CONTAINERID", "tapc"},
                                                            {"CNI_NETNS", netns},
                                                            {"CNI_IFNAME", ifname},
                                                            {"CNI_PATH", binDir()}};
    if (!cniArgs.empty()) env.emplace_back("CNI_ARGS", cniArgs);
    return runPlugin(binDir() + "/tap", cmd, env, c.dump());
}

// /sys/class/net/<dev>/<file> as seen from inside `ns` (a sysfs mounted in a private mount ns).
std::string sysNet(const ScratchNetns& ns, const std::string& dev, const std::string& file) {
    auto r = ns.exec({"unshare", "--mount", "sh", "-c",
                      "mount -t sysfs sysfs /sys && cat /sys/class/net/" + dev + "/" + file});
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    std::string s = r.out;
    while (!s.empty() && s.back() == '\n')
        s.pop_back();
    return s;
}

json link(const ScratchNetns& ns, const std::string& dev = "tap0") {
    auto r = ns.exec({"ip", "-d", "-j", "link", "show", dev});
    REQUIRE(r.exitCode == 0);
    return r.json()[0];
}

bool hasLink(const ScratchNetns& ns, const std::string& dev = "tap0") {
    return ns.exec({"ip", "link", "show", dev}).exitCode == 0;
}

// In a child that entered `ns` and became uid/gid (no capabilities left), TUNSETIFF on `dev`
// as a VM runtime attaches to its tap. Returns 0 on success, else the errno.
int attachAs(const ScratchNetns& ns, uid_t uid, gid_t gid, const std::string& dev,
             bool multiQueue) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::setns(ns.netns().fd(), CLONE_NEWNET) != 0) ::_exit(200);
        // Opened first: /dev/net/tun here is root-only (0600); who may attach is checked at
        // TUNSETIFF, with the credentials of that moment.
        int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0) ::_exit(202);
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(201);
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
        ifr.ifr_flags = short(IFF_TAP | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0));
        ::_exit(::ioctl(fd, TUNSETIFF, &ifr) == 0 ? 0 : errno);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

// Like attachAs, then reads frames for up to `seconds`: 0 when an ARP request for `ip` (4 bytes,
// network order) arrived on the tap, 1 when none did, else the errno of the attach.
pid_t readArpAs(const ScratchNetns& ns, uid_t uid, const std::string& dev, const uint8_t* ip,
                int seconds) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid != 0) return pid;
    if (::setns(ns.netns().fd(), CLONE_NEWNET) != 0) ::_exit(200);
    int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) ::_exit(202);
    if (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(201);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = short(IFF_TAP | IFF_NO_PI);
    if (::ioctl(fd, TUNSETIFF, &ifr) != 0) ::_exit(errno);
    for (int i = 0; i < seconds * 10; ++i) {
        pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        uint8_t frame[2048];
        ssize_t n = ::read(fd, frame, sizeof(frame));
        // Ethernet (14) + ARP: ethertype 0x0806, target protocol address at offset 14 + 24.
        if (n >= 42 && frame[12] == 0x08 && frame[13] == 0x06 &&
            std::memcmp(frame + 38, ip, 4) == 0)
            ::_exit(0);
    }
    ::_exit(1);
}

int waitExit(pid_t pid) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

} // namespace

TEST_CASE("tap: a bridge port that carries frames to the process attached to it", "[tap]") {
    ScratchNetns c;
    REQUIRE(c.exec({"ip", "link", "add", "br0", "type", "bridge"}).exitCode == 0);
    REQUIRE(c.exec({"ip", "addr", "add", "10.82.0.1/24", "dev", "br0"}).exitCode == 0);
    REQUIRE(c.exec({"ip", "link", "set", "br0", "up"}).exitCode == 0);
    json cfg = conf({{"owner", 4242}, {"bridge", "br0"}});
    REQUIRE(call("ADD", c.path(), cfg).exitCode == 0);
    const uint8_t target[4] = {10, 82, 0, 9};
    pid_t reader = readArpAs(c, 4242, "tap0", target, 5);
    // The bridge floods the ARP request for 10.82.0.9 to its ports: the tap's reader sees it.
    c.exec({"ping", "-c", "4", "-i", "0.5", "-W", "1", "10.82.0.9"});
    CHECK(waitExit(reader) == 0);
    // Once the tap is out of the bridge, nothing reaches it.
    REQUIRE(c.exec({"ip", "link", "set", "tap0", "nomaster"}).exitCode == 0);
    reader = readArpAs(c, 4242, "tap0", target, 2);
    c.exec({"ping", "-c", "3", "-i", "0.5", "-W", "1", "10.82.0.9"});
    CHECK(waitExit(reader) == 1);
    REQUIRE(call("DEL", c.path(), cfg).exitCode == 0);
}

TEST_CASE("tap: multiQueue, mtu, mac, owner and bridge as asked; only the owner attaches; DEL",
          "[tap]") {
    ScratchNetns c;
    REQUIRE(c.exec({"ip", "link", "add", "br0", "type", "bridge"}).exitCode == 0);
    json cfg = conf({{"multiQueue", true},
                     {"mtu", 1400},
                     {"mac", "02:11:22:33:44:55"},
                     {"owner", 4242},
                     {"bridge", "br0"},
                     {"selinuxcontext", "system_u:system_r:container_t:s0"}});
    auto add = call("ADD", c.path(), cfg);
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    json res = *add.json;
    REQUIRE(res["interfaces"].size() == 1);
    CHECK(res["interfaces"][0] ==
          json({{"name", "tap0"}, {"mac", "02:11:22:33:44:55"}, {"sandbox", c.path()}}));
    CHECK_FALSE(res.contains("ips"));
    CHECK(add.err.find("selinuxContext") != std::string::npos); // the note that it is ignored

    // IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE | IFF_PERSIST.
    CHECK(sysNet(c, "tap0", "tun_flags") == "0x1902");
    CHECK(sysNet(c, "tap0", "owner") == "4242");
    CHECK(sysNet(c, "tap0", "group") == "-1");
    json l = link(c);
    CHECK(l["mtu"] == 1400);
    CHECK(l["address"] == "02:11:22:33:44:55");
    CHECK(l["master"] == "br0");
    CHECK(l["linkinfo"]["info_data"]["multi_queue"] == true);
    CHECK(l["linkinfo"]["info_data"]["persist"] == true);
    auto flags = l["flags"].get<std::vector<std::string>>();
    CHECK(std::find(flags.begin(), flags.end(), "UP") != flags.end());

    CHECK(attachAs(c, 4242, 4242, "tap0", true) == 0);
    CHECK(attachAs(c, 4343, 4343, "tap0", true) == EPERM);
    // The owner's attach must match the queue mode the device was made with.
    CHECK(attachAs(c, 4242, 4242, "tap0", false) == EINVAL);

    json withPrev = cfg;
    withPrev["prevResult"] = res;
    auto chk = call("CHECK", c.path(), withPrev);
    INFO(chk.out);
    CHECK(chk.exitCode == 0);
    // CHECK notices a tap that left its bridge.
    REQUIRE(c.exec({"ip", "link", "set", "tap0", "nomaster"}).exitCode == 0);
    auto chk2 = call("CHECK", c.path(), withPrev);
    CHECK(chk2.exitCode != 0);
    CHECK(chk2.out.find("br0") != std::string::npos);

    REQUIRE(call("DEL", c.path(), cfg).exitCode == 0);
    CHECK_FALSE(hasLink(c));
    CHECK(hasLink(c, "br0")); // the bridge is not ours
    CHECK(call("DEL", c.path(), cfg).exitCode == 0);
}

// The kernel's rule (tun_not_capable): an owner that is set must be the caller's euid AND a group
// that is set must be among its groups, unless the caller has CAP_NET_ADMIN in the netns.
TEST_CASE("tap: who may attach follows owner and group", "[tap]") {
    ScratchNetns c;
    SECTION("no owner, no group") {
        REQUIRE(call("ADD", c.path(), conf()).exitCode == 0);
        CHECK(sysNet(c, "tap0", "tun_flags") == "0x1802");
        CHECK(sysNet(c, "tap0", "owner") == "-1");
        CHECK(link(c)["mtu"] == 1500);
        // No owner, no group: whoever can open /dev/net/tun may attach.
        CHECK(attachAs(c, 4242, 4242, "tap0", false) == 0);
    }
    SECTION("owner and group: vnet_hdr too, as the reference's netlink path") {
        REQUIRE(call("ADD", c.path(), conf({{"owner", 4242}, {"group", 5151}})).exitCode == 0);
        CHECK(sysNet(c, "tap0", "tun_flags") == "0x5802");
        CHECK(sysNet(c, "tap0", "group") == "5151");
        CHECK(attachAs(c, 4242, 5151, "tap0", false) == 0);
        CHECK(attachAs(c, 4343, 5151, "tap0", false) == EPERM); // in the group, not the owner
        CHECK(attachAs(c, 4242, 4242, "tap0", false) == EPERM); // the owner, not in the group
    }
    SECTION("group only") {
        REQUIRE(call("ADD", c.path(), conf({{"group", 5151}})).exitCode == 0);
        CHECK(sysNet(c, "tap0", "tun_flags") == "0x1802");
        CHECK(sysNet(c, "tap0", "owner") == "-1");
        CHECK(attachAs(c, 4343, 5151, "tap0", false) == 0);
        CHECK(attachAs(c, 4343, 4343, "tap0", false) == EPERM);
    }
    REQUIRE(call("DEL", c.path(), conf()).exitCode == 0);
    CHECK_FALSE(hasLink(c));
}

TEST_CASE("tap: mac from CNI_ARGS and runtimeConfig, the latter winning", "[tap]") {
    ScratchNetns c;
    auto a = call("ADD", c.path(), conf({{"mac", "02:00:00:00:00:01"}}), "MAC=02:00:00:00:00:02");
    REQUIRE(a.exitCode == 0);
    CHECK(link(c)["address"] == "02:00:00:00:00:02");
    REQUIRE(call("DEL", c.path(), conf()).exitCode == 0);
    auto b = call("ADD", c.path(), conf({{"runtimeConfig", {{"mac", "02:00:00:00:00:03"}}}}),
                  "MAC=02:00:00:00:00:02");
    REQUIRE(b.exitCode == 0);
    CHECK(link(c)["address"] == "02:00:00:00:00:03");
    CHECK((*b.json)["interfaces"][0]["mac"] == "02:00:00:00:00:03");
    REQUIRE(call("DEL", c.path(), conf()).exitCode == 0);
}

TEST_CASE("tap: with ipam the address is on the tap; DEL releases the lease", "[tap]") {
    ScratchNetns c;
    TempDir data;
    json cfg = conf({{"ipam",
                      {{"type", "host-local"},
                       {"subnet", "10.80.0.0/24"},
                       {"dataDir", data.path()},
                       {"routes", json::array({{{"dst", "10.81.0.0/16"}}})}}}});
    auto add = call("ADD", c.path(), cfg);
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    json res = *add.json;
    CHECK(res["ips"][0]["address"] == "10.80.0.2/24");
    CHECK(res["ips"][0]["interface"] == 0);
    auto addrs = c.exec({"ip", "-j", "-4", "addr", "show", "tap0"}).json();
    REQUIRE(addrs.size() == 1);
    REQUIRE(addrs[0]["addr_info"].size() == 1);
    CHECK(addrs[0]["addr_info"][0]["local"] == "10.80.0.2");
    CHECK(c.exec({"ip", "route", "show", "10.81.0.0/16"}).out.find("via 10.80.0.1 dev tap0") !=
          std::string::npos);
    CHECK(fs::exists(data.path() / "tapnet" / "10.80.0.2"));
    json withPrev = cfg;
    withPrev["prevResult"] = res;
    CHECK(call("CHECK", c.path(), withPrev).exitCode == 0);
    REQUIRE(call("DEL", c.path(), cfg).exitCode == 0);
    CHECK_FALSE(hasLink(c));
    CHECK_FALSE(fs::exists(data.path() / "tapnet" / "10.80.0.2"));
}

TEST_CASE("tap: bad input is refused before anything is made; DEL of what is gone is fine",
          "[tap]") {
    ScratchNetns c;
    REQUIRE(
        c.exec({"ip", "link", "add", "notbr", "type", "veth", "peer", "name", "notbr1"}).exitCode ==
        0);
    struct Bad {
        json conf;
        int code;
        std::string word;
    };
    for (const Bad& b :
         {Bad{conf({{"mtu", 10}}), 7, "mtu"}, Bad{conf({{"mtu", 70000}}), 7, "mtu"},
          Bad{conf({{"mac", "zz:11"}}), 7, "mac"}, Bad{conf({{"owner", -1}}), 7, "owner"},
          Bad{conf({{"owner", 4294967295LL}}), 7, "owner"}, Bad{conf({{"group", -3}}), 7, "group"},
          Bad{conf({{"bridge", "nosuchbr"}}), 7, "nosuchbr"},
          Bad{conf({{"bridge", "notbr"}}), 7, "notbr"}, Bad{conf({{"bridge", "a/b"}}), 7, "bridge"},
          Bad{conf({{"multiQueue", "yes"}}), 6, "multiQueue"},
          Bad{conf({{"owner", "root"}}), 6, "owner"}}) {
        auto r = call("ADD", c.path(), b.conf);
        INFO(b.conf.dump() << " -> " << r.out);
        CHECK(r.exitCode != 0);
        REQUIRE(r.json);
        CHECK((*r.json)["code"] == b.code);
        CHECK((*r.json)["msg"].get<std::string>().find(b.word) != std::string::npos);
        CHECK_FALSE(hasLink(c));
    }
    // CNI_IFNAME taken: code 102, and the existing link is untouched.
    auto clash = call("ADD", c.path(), conf(), "", "notbr");
    CHECK(clash.exitCode != 0);
    REQUIRE(clash.json);
    CHECK((*clash.json)["code"] == 102);
    CHECK(link(c, "notbr")["linkinfo"]["info_kind"] == "veth");
    // DEL: no such link, no such netns, no netns at all.
    CHECK(call("DEL", c.path(), conf()).exitCode == 0);
    CHECK(call("DEL", "/run/netns/tether-no-such-ns", conf()).exitCode == 0);
    CHECK(call("DEL", "", conf()).exitCode == 0);
}
