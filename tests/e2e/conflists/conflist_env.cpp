#include "tests/e2e/conflists/conflist_env.hpp"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "tests/e2e/conflists/libcni_chain.hpp"

namespace tether::test {

using nlohmann::json;

ConflistWorld::ConflistWorld() {
    // NatHosts entered a private mount namespace (isolateRunDir): this tmpfs hides the host's
    // /var/lib from the plugins and the CLI, and goes away with the namespace.
    if (mount("tmpfs", "/var/lib", "tmpfs", 0, "mode=0755") != 0)
        FAIL("mount tmpfs on /var/lib: " << std::strerror(errno));
}

ConflistWorld::~ConflistWorld() {
    umount2("/var/lib", MNT_DETACH);
}

json loadFixture(const std::string& file) {
    std::ifstream in(sourceDir() + "/tests/e2e/conflists/fixtures/" + file);
    if (!in) FAIL("fixture " << file << " not readable");
    std::stringstream s;
    s << in.rdbuf();
    auto j = json::parse(s.str(), nullptr, false);
    if (j.is_discarded()) FAIL("fixture " << file << " is not JSON");
    return j;
}

namespace {

class CliDriver : public Driver {
  public:
    explicit CliDriver(json list) : name_(list["name"]) {
        std::ofstream(dir_ / "net.conflist") << list.dump(2);
    }
    json add(const std::string& id, const ScratchNetns& ns, const json& caps, std::string& error,
             const std::string& ifname) override {
        ExecResult r = run("add", id, ns, caps, ifname);
        if (r.exitCode != 0) {
            error = r.out + r.err;
            return nullptr;
        }
        return r.json();
    }
    std::string check(const std::string& id, const ScratchNetns& ns, const json& caps, const json&,
                      const std::string& ifname) override {
        ExecResult r = run("check", id, ns, caps, ifname);
        return r.exitCode == 0 ? "" : "exit " + std::to_string(r.exitCode) + " " + r.out + r.err;
    }
    std::string del(const std::string& id, const ScratchNetns& ns, const json& caps, const json&,
                    const std::string& ifname) override {
        ExecResult r = run("del", id, ns, caps, ifname);
        return r.exitCode == 0 ? "" : "exit " + std::to_string(r.exitCode) + " " + r.out + r.err;
    }
    [[nodiscard]] std::string name() const override { return "tether net"; }

  private:
    ExecResult run(const std::string& cmd, const std::string& id, const ScratchNetns& ns,
                   const json& caps, const std::string& ifname) {
        return execHere({"env", "NETCONFPATH=" + dir_.path().string(), "CNI_PATH=" + binDir(),
                         binDir() + "/tether", "net", cmd, name_, ns.path(), "--id", id, "--ifname",
                         ifname, "--cap", caps.dump(), "--json"},
                        90);
    }
    TempDir dir_;
    std::string name_;
};

class ChainDriver : public Driver {
  public:
    explicit ChainDriver(json list) : chain_(std::move(list), binDir()) {}
    json add(const std::string& id, const ScratchNetns& ns, const json& caps, std::string& error,
             const std::string& ifname) override {
        ChainOutcome o = chain_.add(attachment(id, ns, caps, ifname));
        if (!o.ok) error = o.error;
        return o.ok ? o.result : json(nullptr);
    }
    std::string check(const std::string& id, const ScratchNetns& ns, const json& caps,
                      const json& result, const std::string& ifname) override {
        return chain_.check(attachment(id, ns, caps, ifname), result).error;
    }
    std::string del(const std::string& id, const ScratchNetns& ns, const json& caps,
                    const json& result, const std::string& ifname) override {
        return chain_.del(attachment(id, ns, caps, ifname), result).error;
    }
    [[nodiscard]] std::string name() const override { return "libcni order"; }

  private:
    static ChainAttachment attachment(const std::string& id, const ScratchNetns& ns,
                                      const json& caps, const std::string& ifname) {
        return {.containerId = id, .netns = ns.path(), .ifname = ifname, .capabilityArgs = caps};
    }
    LibcniChain chain_;
};

std::string linesWith(const std::string& text, const std::string& needle) {
    std::istringstream in(text);
    std::string out;
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) out += line + "\n";
    return out;
}

} // namespace

std::unique_ptr<Driver> cliDriver(const json& list) {
    return std::make_unique<CliDriver>(list);
}
std::unique_ptr<Driver> libcniDriver(const json& list) {
    return std::make_unique<ChainDriver>(list);
}

std::string leftovers(const std::string& name, const std::string& bridge) {
    namespace fs = std::filesystem;
    std::string out;
    auto ports = execHere({"ip", "-o", "link", "show", "master", bridge});
    if (!ports.out.empty()) out += "bridge ports: " + ports.out;
    auto ifb = execHere({"ip", "-o", "link", "show", "type", "ifb"});
    if (!ifb.out.empty()) out += "ifb: " + ifb.out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/var/lib/cni/networks/" + name, ec)) {
        std::string f = e.path().filename();
        if (f != "lock" && f != "tether.owners" && !f.starts_with("last_reserved_ip."))
            out += "lease file: " + f + "\n";
    }
    for (const auto& e : fs::directory_iterator("/var/lib/cni/results", ec))
        out += "cache file: " + e.path().filename().string() + "\n";
    std::string rules = execHere({"nft", "list", "ruleset"}).out + execHere({"iptables-save"}).out +
                        execHere({"ip6tables-save"}).out;
    out += linesWith(rules, name + "/");
    return out;
}

std::string resultAddress(const json& result, const std::string& family) {
    if (!result.is_object() || !result.contains("ips")) return "";
    for (const auto& ip : result["ips"]) {
        std::string a = ip.value("address", "");
        bool v6 = a.find(':') != std::string::npos;
        if ((family == "6") == v6) return a.substr(0, a.find('/'));
    }
    return "";
}

} // namespace tether::test
