#include "runtime/launcher/cgroup.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "runtime/launcher/cgroup_internal.hpp"
#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/json_read.hpp"

namespace tether::rt {

std::string cgroupOwnPath(const std::string& key) {
    auto text = readFile("/proc/self/cgroup");
    if (!text) return "/";
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        auto a = line.find(':');
        auto b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        std::string ctrls = line.substr(a + 1, b - a - 1);
        std::stringstream cs(ctrls);
        std::string c;
        if (key.empty() && ctrls.empty()) return line.substr(b + 1);
        while (std::getline(cs, c, ','))
            if (!key.empty() && c == key) return line.substr(b + 1);
    }
    return "/";
}

std::string cgroupJoin(const std::string& a, const std::string& b) {
    if (a.empty() || a.back() != '/') return a + "/" + b;
    return a + b;
}

namespace {

bool exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

Status writeKnob(const std::string& dir, const std::string& file, const std::string& value) {
    auto st = writeFile(dir + "/" + file, value);
    if (!st) return std::unexpected(st.error().wrap("set " + file + "=" + value));
    return {};
}

std::optional<int64_t> counter(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    std::string k;
    int64_t v = 0;
    while (in >> k >> v)
        if (k == key) return v;
    return std::nullopt;
}

} // namespace

Expected<CgroupMode> detectCgroupMode() {
    struct statfs fs {};
    if (::statfs(kCgroupRoot, &fs) != 0)
        return failErrno(std::string("statfs ") + kCgroupRoot, errno);
    if (fs.f_type == CGROUP2_SUPER_MAGIC) return CgroupMode::V2;
    if (fs.f_type != TMPFS_MAGIC)
        return fail(Code::Kernel, "/sys/fs/cgroup is neither cgroup2 nor tmpfs");
    struct statfs uni {};
    if (::statfs("/sys/fs/cgroup/unified", &uni) == 0 && uni.f_type == CGROUP2_SUPER_MAGIC)
        return CgroupMode::Hybrid;
    return CgroupMode::V1;
}

const char* cgroupModeName(CgroupMode mode) {
    switch (mode) {
    case CgroupMode::V1:
        return "v1";
    case CgroupMode::Hybrid:
        return "hybrid";
    case CgroupMode::V2:
        return "v2";
    }
    return "?";
}

Expected<Cgroup> Cgroup::create(const std::string& stateRoot, const std::string& parent,
                                const std::string& containerId, const CgroupLimits& limits,
                                const std::vector<DeviceRule>& devices) {
    const std::string id = cgroupOwnerTag(stateRoot) + "-" + containerId;
    Cgroup cg;
    cg.mode_ = TRY(detectCgroupMode());
    auto make = [&](const std::string& hierarchy, const std::string& key) -> Expected<std::string> {
        std::string base = std::string(kCgroupRoot) + (hierarchy.empty() ? "" : "/" + hierarchy);
        std::string dir = cgroupJoin(cgroupJoin(base + cgroupOwnPath(key), parent), id);
        int rc = ::mkdir(dir.c_str(), 0755);
        // Usually only the shared parent is missing: it is removed with its last child, and
        // another container's teardown may remove it again between our two mkdirs, so retry.
        for (int attempt = 0; rc != 0 && errno == ENOENT && attempt < 8; ++attempt) {
            std::string up = dir.substr(0, dir.rfind('/'));
            if (::mkdir(up.c_str(), 0755) != 0 && errno != EEXIST) TRY(mkdirs(up));
            if (cg.mode_ == CgroupMode::V2)
                (void)writeFile(up + "/cgroup.subtree_control", "+memory +pids +cpu");
            rc = ::mkdir(dir.c_str(), 0755);
        }
        if (rc != 0) {
            if (errno == EEXIST) return fail(Code::Conflict, "cgroup " + dir + " already exists");
            return failErrno("mkdir cgroup " + dir, errno);
        }
        cg.dirs_.push_back(dir);
        return dir;
    };
    auto build = [&]() -> Status {
        if (cg.mode_ == CgroupMode::V2) {
            // Controllers must be enabled in every ancestor's subtree_control; the parent we
            // create holds no processes, so enabling there always satisfies the leaf rule.
            std::string base = cgroupJoin(std::string(kCgroupRoot) + cgroupOwnPath(""), parent);
            TRY(mkdirs(base));
            (void)writeFile(base + "/cgroup.subtree_control", "+memory +pids +cpu");
            std::string dir = TRY(make("", ""));
            cg.memory_ = cg.pids_ = cg.cpu_ = cg.freezer_ = cg.unified_ = dir;
        } else {
            // Every v1 hierarchy joined costs a cgroup.procs write, and the first one waits for
            // an RCU grace period (cgroup_threadgroup_rwsem). On hybrid the unified tree alone
            // tracks, freezes and kills, and is entered by clone3(CLONE_INTO_CGROUP) without that
            // write; v1 controllers are joined only when a limit needs them.
            bool hybrid = cg.mode_ == CgroupMode::Hybrid;
            if (hybrid) cg.unified_ = TRY(make("unified", ""));
            if (limits.memoryBytes || limits.memorySwapBytes || !hybrid)
                cg.memory_ = TRY(make("memory", "memory"));
            if (limits.pids || !hybrid) cg.pids_ = TRY(make("pids", "pids"));
            if (limits.cpus || limits.cpuShares || !hybrid) cg.cpu_ = TRY(make("cpu", "cpu"));
            cg.freezer_ = hybrid ? cg.unified_ : TRY(make("freezer", "freezer"));
        }
        // The device policy before any process is in the cgroup (the container is cloned
        // into it afterwards). The unified tree of a hybrid host takes an eBPF program like
        // v2 does: no v1 hierarchy to join (one cgroup.procs write and an RCU grace period
        // fewer per container); the v1 controller when the program cannot be loaded.
        // TETHER_DEVICE_POLICY=devices picks the v1 controller on a hybrid host (where the
        // eBPF program is refused, or to test that path).
        const char* forced = std::getenv("TETHER_DEVICE_POLICY");
        bool wantV1 = forced && std::string(forced) == "devices" && cg.mode_ != CgroupMode::V2;
        if (!cg.unified_.empty() && !wantV1) {
            auto prog = loadDeviceProgram(devices);
            Status attached = prog ? attachDeviceProgram(cg.unified_, prog->get())
                                   : Status(std::unexpected(prog.error()));
            if (attached)
                cg.devicePolicy_ = "ebpf";
            else if (cg.mode_ == CgroupMode::V2)
                return std::unexpected(attached.error().wrap("device policy"));
        }
        if (cg.devicePolicy_.empty()) {
            cg.devices_ = TRY(make("devices", "devices"));
            TRY(writeV1DeviceRules(cg.devices_, devices));
            cg.devicePolicy_ = "devices";
        }
        bool v2 = cg.mode_ == CgroupMode::V2;
        if (limits.memoryBytes)
            TRY(writeKnob(cg.memory_, v2 ? "memory.max" : "memory.limit_in_bytes",
                          std::to_string(*limits.memoryBytes)));
        if (limits.memorySwapBytes) {
            if (v2) {
                std::string swap = "max";
                if (*limits.memorySwapBytes >= 0)
                    swap = std::to_string(*limits.memorySwapBytes - limits.memoryBytes.value_or(0));
                TRY(writeKnob(cg.memory_, "memory.swap.max", swap));
            } else if (exists(cg.memory_ + "/memory.memsw.limit_in_bytes")) {
                TRY(writeKnob(cg.memory_, "memory.memsw.limit_in_bytes",
                              std::to_string(*limits.memorySwapBytes)));
            } else {
                return fail(Code::UnsupportedField,
                            "--memory-swap: swap accounting is not enabled in this kernel "
                            "(no memory.memsw.limit_in_bytes)");
            }
        }
        if (limits.pids) TRY(writeKnob(cg.pids_, "pids.max", std::to_string(*limits.pids)));
        if (limits.cpus) {
            long quota = static_cast<long>(*limits.cpus * 100000);
            if (v2) {
                TRY(writeKnob(cg.cpu_, "cpu.max", std::to_string(quota) + " 100000"));
            } else {
                TRY(writeKnob(cg.cpu_, "cpu.cfs_period_us", "100000"));
                TRY(writeKnob(cg.cpu_, "cpu.cfs_quota_us", std::to_string(quota)));
            }
        }
        if (limits.cpuShares) {
            if (v2) {
                uint64_t s = *limits.cpuShares;
                uint64_t weight = 1 + ((s < 2 ? 0 : s - 2) * 9999) / 262142;
                TRY(writeKnob(cg.cpu_, "cpu.weight", std::to_string(weight)));
            } else {
                TRY(writeKnob(cg.cpu_, "cpu.shares", std::to_string(*limits.cpuShares)));
            }
        }
        return {};
    };
    if (auto st = build(); !st) {
        (void)cg.remove();
        return std::unexpected(st.error());
    }
    return cg;
}

Expected<Cgroup> Cgroup::fromJson(const nlohmann::json& j) {
    JsonObjectReader r(j, "cgroup");
    Cgroup cg;
    std::string mode = "v1";
    TRY(r.read("mode", mode));
    cg.mode_ = mode == "v2"       ? CgroupMode::V2
               : mode == "hybrid" ? CgroupMode::Hybrid
                                  : CgroupMode::V1;
    TRY(r.read("memory", cg.memory_));
    TRY(r.read("pids", cg.pids_));
    TRY(r.read("cpu", cg.cpu_));
    TRY(r.read("freezer", cg.freezer_));
    TRY(r.read("unified", cg.unified_));
    TRY(r.read("devices", cg.devices_));
    TRY(r.read("devicePolicy", cg.devicePolicy_));
    TRY(r.read("dirs", cg.dirs_));
    return cg;
}

nlohmann::json Cgroup::toJson() const {
    return {{"mode", cgroupModeName(mode_)},
            {"memory", memory_},
            {"pids", pids_},
            {"cpu", cpu_},
            {"freezer", freezer_},
            {"unified", unified_},
            {"devices", devices_},
            {"devicePolicy", devicePolicy_},
            {"dirs", dirs_}};
}

Status Cgroup::addPid(pid_t pid, bool exceptUnified) const {
    for (const auto& d : dirs_)
        if (!(exceptUnified && d == unified_))
            TRY(writeKnob(d, "cgroup.procs", std::to_string(pid)));
    return {};
}

bool Cgroup::frozen() const {
    if (freezer_.empty()) return false;
    if (mode_ != CgroupMode::V1 && freezer_ == unified_) {
        auto ev = readFile(unified_ + "/cgroup.events");
        return ev && counter(*ev, "frozen").value_or(0) == 1;
    }
    auto st = readFile(freezer_ + "/freezer.state");
    return st && st->starts_with("FROZEN");
}

Status Cgroup::setFrozen(bool frz) const {
    if (freezer_.empty()) return fail(Code::Kernel, "container has no freezer cgroup");
    if (mode_ != CgroupMode::V1 && freezer_ == unified_)
        TRY(writeKnob(unified_, "cgroup.freeze", frz ? "1" : "0"));
    else
        TRY(writeKnob(freezer_, "freezer.state", frz ? "FROZEN" : "THAWED"));
    for (int i = 0; i < 200 && frozen() != frz; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (frozen() != frz)
        return fail(Code::Kernel,
                    std::string("cgroup did not become ") + (frz ? "frozen" : "thawed"));
    return {};
}

bool Cgroup::oomKilled() const {
    if (memory_.empty()) return false;
    if (mode_ == CgroupMode::V2) {
        auto ev = readFile(memory_ + "/memory.events");
        return ev && counter(*ev, "oom_kill").value_or(0) > 0;
    }
    auto oc = readFile(memory_ + "/memory.oom_control");
    if (oc) {
        if (auto k = counter(*oc, "oom_kill")) return *k > 0;
    }
    auto fc = readFile(memory_ + "/memory.failcnt");
    return fc && std::strtoll(fc->c_str(), nullptr, 10) > 0;
}

std::vector<pid_t> Cgroup::pids() const {
    std::vector<pid_t> out;
    for (const auto& d : dirs_) {
        auto procs = readFile(d + "/cgroup.procs");
        if (!procs) continue;
        std::istringstream in(*procs);
        pid_t p;
        while (in >> p)
            out.push_back(p);
        return out;
    }
    return out;
}

Status Cgroup::killAll() const {
    if (!unified_.empty() && exists(unified_ + "/cgroup.kill")) {
        if (auto st = writeFile(unified_ + "/cgroup.kill", "1"); !st && st.error().errnum != ENOENT)
            return std::unexpected(st.error().wrap("kill cgroup " + unified_));
    }
    bool haveFreezer = !freezer_.empty() && exists(freezer_);
    for (int round = 0; round < 100; ++round) {
        auto list = pids();
        if (list.empty()) return {};
        bool v1Freezer = haveFreezer && freezer_ != unified_;
        if (v1Freezer) (void)setFrozen(true);
        for (pid_t p : list)
            ::kill(p, SIGKILL);
        if (v1Freezer) (void)setFrozen(false);
        std::this_thread::sleep_for(std::chrono::milliseconds(round < 10 ? 1 : 10));
    }
    return fail(Code::Kernel, "processes remain in cgroup " + (dirs_.empty() ? "" : dirs_[0]));
}

Status Cgroup::remove() const {
    std::string errors;
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
        int err = 0;
        for (int i = 0; i < 200; ++i) {
            if (::rmdir(it->c_str()) == 0 || errno == ENOENT) {
                err = 0;
                break;
            }
            err = errno;
            if (err != EBUSY) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (err != 0)
            errors += (errors.empty() ? "" : "; ") + errnoError("rmdir " + *it, err).msg;
        else
            ::rmdir(it->substr(0, it->rfind('/')).c_str()); // the shared parent, once empty
    }
    if (!errors.empty()) return fail(Code::Kernel, errors);
    return {};
}

} // namespace tether::rt
