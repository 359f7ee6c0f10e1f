#include "runtime/launcher/devices.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "runtime/launcher/fs_util.hpp"

namespace tether::rt {
namespace {

// BPF instruction constructors (the kernel's BPF_* insn macros are not in the uapi headers).
bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
bpf_insn loadCtxWord(uint8_t dst, int16_t off) {
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0);
}
bpf_insn alu32Imm(uint8_t op, uint8_t dst, int32_t imm) {
    return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32Reg(uint8_t dst, uint8_t src) {
    return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn jneImm(uint8_t reg, int32_t imm, int16_t off) {
    return insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, off, imm);
}
bpf_insn mov64Imm(uint8_t dst, int32_t imm) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn exitInsn() {
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

int32_t accessBits(const std::string& access) {
    int32_t bits = 0;
    for (char c : access)
        bits |= c == 'm'   ? BPF_DEVCG_ACC_MKNOD
                : c == 'r' ? BPF_DEVCG_ACC_READ
                : c == 'w' ? BPF_DEVCG_ACC_WRITE
                           : 0;
    return bits;
}

bool validAccess(const std::string& access) {
    if (access.empty() || access.size() > 3) return false;
    for (char c : access)
        if (c != 'r' && c != 'w' && c != 'm') return false;
    return true;
}

long bpfCall(int cmd, bpf_attr& attr) {
    return ::syscall(SYS_bpf, cmd, &attr, sizeof attr);
}

} // namespace

Expected<DeviceRequest> parseDeviceFlag(const std::string& spec) {
    DeviceRequest r;
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t colon = spec.find(':', start);
        parts.push_back(spec.substr(start, colon == std::string::npos ? colon : colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    auto bad = [&](const std::string& why) {
        return fail(Code::InvalidConfig, "--device " + spec + ": " + why);
    };
    if (parts.size() > 3) return bad("expected HOST[:CONTAINER][:PERMISSIONS]");
    r.hostPath = parts[0];
    r.containerPath = parts[0];
    if (parts.size() == 2) {
        if (validAccess(parts[1]) && parts[1][0] != '/')
            r.access = parts[1];
        else
            r.containerPath = parts[1];
    } else if (parts.size() == 3) {
        r.containerPath = parts[1];
        if (!validAccess(parts[2])) return bad("permissions must be a subset of rwm");
        r.access = parts[2];
    }
    if (r.hostPath.empty() || r.hostPath[0] != '/') return bad("the host path must be absolute");
    if (r.containerPath.empty() || r.containerPath[0] != '/' ||
        r.containerPath.find("..") != std::string::npos)
        return bad("the container path must be absolute, without ..");
    struct stat st {};
    if (::stat(r.hostPath.c_str(), &st) != 0) return failErrno("--device " + r.hostPath, errno);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
        return bad(r.hostPath + " is not a character or block device");
    r.type = S_ISBLK(st.st_mode) ? 'b' : 'c';
    r.major = major(st.st_rdev);
    r.minor = minor(st.st_rdev);
    return r;
}

std::vector<DeviceRule> deviceRules(const std::vector<DeviceRequest>& requests) {
    std::vector<DeviceRule> rules = {
        {'c', -1, -1, "m"},    {'b', -1, -1, "m"}, // mknod of anything; opening it is another rule
        {'c', 1, 3, "rwm"},                        // null
        {'c', 1, 5, "rwm"},                        // zero
        {'c', 1, 7, "rwm"},                        // full
        {'c', 1, 8, "rwm"},                        // random
        {'c', 1, 9, "rwm"},                        // urandom
        {'c', 5, 0, "rwm"},                        // tty
        {'c', 5, 2, "rwm"},                        // ptmx (devpts' own ptmx is 5:2 as well)
        {'c', 136, -1, "rwm"},                     // pts: the container's ptys, its console
    };
    for (const auto& r : requests)
        rules.push_back({r.type, r.major, r.minor, r.access});
    return rules;
}

std::string deviceRuleLine(const DeviceRule& rule) {
    auto num = [](int64_t v) { return v < 0 ? std::string("*") : std::to_string(v); };
    return std::string(1, rule.type) + " " + num(rule.major) + ":" + num(rule.minor) + " " +
           rule.access;
}

std::vector<bpf_insn> buildDeviceProgram(const std::vector<DeviceRule>& rules) {
    // struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; }
    std::vector<bpf_insn> p = {
        loadCtxWord(BPF_REG_2, 0), alu32Imm(BPF_AND, BPF_REG_2, 0xffff), // r2 = type
        loadCtxWord(BPF_REG_3, 0), alu32Imm(BPF_RSH, BPF_REG_3, 16),     // r3 = access
        loadCtxWord(BPF_REG_4, 4),                                       // r4 = major
        loadCtxWord(BPF_REG_5, 8),                                       // r5 = minor
    };
    for (const auto& rule : rules) {
        // Each test jumps over the rest of the block to the next rule when it does not match.
        std::vector<bpf_insn> block;
        std::vector<size_t> jumps; // indexes of jumps whose offset is filled in at the end
        if (rule.type != 'a') {
            jumps.push_back(block.size());
            block.push_back(
                jneImm(BPF_REG_2, rule.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
        }
        int32_t allowed = accessBits(rule.access);
        int32_t all = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
        if (allowed != all) { // the access asked for must be a subset of the allowed one
            block.push_back(mov32Reg(BPF_REG_1, BPF_REG_3));
            block.push_back(alu32Imm(BPF_AND, BPF_REG_1, ~allowed));
            jumps.push_back(block.size());
            block.push_back(jneImm(BPF_REG_1, 0, 0));
        }
        if (rule.major >= 0) {
            jumps.push_back(block.size());
            block.push_back(jneImm(BPF_REG_4, static_cast<int32_t>(rule.major), 0));
        }
        if (rule.minor >= 0) {
            jumps.push_back(block.size());
            block.push_back(jneImm(BPF_REG_5, static_cast<int32_t>(rule.minor), 0));
        }
        block.push_back(mov64Imm(BPF_REG_0, 1));
        block.push_back(exitInsn());
        for (size_t j : jumps)
            block[j].off = static_cast<int16_t>(block.size() - j - 1);
        p.insert(p.end(), block.begin(), block.end());
    }
    p.push_back(mov64Imm(BPF_REG_0, 0));
    p.push_back(exitInsn());
    return p;
}

Expected<UniqueFd> loadDeviceProgram(const std::vector<DeviceRule>& rules) {
    std::vector<bpf_insn> prog = buildDeviceProgram(rules);
    static const char license[] = "Apache-2.0";
    char log[4096] = {};
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<uint64_t>(prog.data());
    attr.insn_cnt = static_cast<uint32_t>(prog.size());
    attr.license = reinterpret_cast<uint64_t>(license);
    long fd = bpfCall(BPF_PROG_LOAD, attr);
    if (fd < 0 && errno == EACCES) { // the verifier refused: load again for its reason
        attr.log_buf = reinterpret_cast<uint64_t>(log);
        attr.log_size = sizeof log;
        attr.log_level = 1;
        fd = bpfCall(BPF_PROG_LOAD, attr);
    }
    if (fd < 0) {
        int err = errno;
        std::string why = log[0] ? std::string(" (verifier: ") + log + ")" : "";
        return failErrno("load the device cgroup program" + why, err);
    }
    return UniqueFd(static_cast<int>(fd));
}

Status attachDeviceProgram(const std::string& cgroupDir, int progFd) {
    UniqueFd dir(::open(cgroupDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return failErrno("open cgroup " + cgroupDir, errno);
    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(dir.get());
    attr.attach_bpf_fd = static_cast<uint32_t>(progFd);
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpfCall(BPF_PROG_ATTACH, attr) != 0)
        return failErrno("attach the device program to " + cgroupDir, errno);
    return {};
}

Status writeV1DeviceRules(const std::string& devicesDir, const std::vector<DeviceRule>& rules) {
    if (auto st = writeFile(devicesDir + "/devices.deny", "a"); !st)
        return std::unexpected(st.error().wrap("device policy: devices.deny a"));
    for (const auto& r : rules) {
        std::string line = deviceRuleLine(r);
        if (auto st = writeFile(devicesDir + "/devices.allow", line); !st)
            return std::unexpected(st.error().wrap("device policy: devices.allow " + line));
    }
    return {};
}

} // namespace tether::rt
