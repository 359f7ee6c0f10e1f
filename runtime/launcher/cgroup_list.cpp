// Which cgroups belong to which launcher instance: the owner tag in the directory name, and the
// listing `gc` reconciles against its state dir.
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>

#include <cstdio>

#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/cgroup_internal.hpp"

namespace tether::rt {

std::string cgroupOwnerTag(const std::string& stateRoot) {
    std::string path = stateRoot;
    char real[PATH_MAX];
    if (::realpath(stateRoot.c_str(), real)) path = real;
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    uint32_t h = 2166136261u; // FNV-1a
    for (unsigned char c : path) {
        h ^= c;
        h *= 16777619u;
    }
    char out[9];
    std::snprintf(out, sizeof out, "%08x", h);
    return out;
}

std::vector<std::pair<std::string, Cgroup>> Cgroup::listUnder(const std::string& stateRoot,
                                                              const std::string& parent) {
    std::vector<std::pair<std::string, Cgroup>> out;
    auto modeOr = detectCgroupMode();
    if (!modeOr) return out;
    const std::string prefix = cgroupOwnerTag(stateRoot) + "-";
    std::vector<std::pair<std::string, std::string>> hier;
    if (*modeOr == CgroupMode::V2)
        hier = {{"", ""}};
    else {
        hier = {{"unified", ""},
                {"memory", "memory"},
                {"pids", "pids"},
                {"cpu", "cpu"},
                {"devices", "devices"}};
        if (*modeOr == CgroupMode::V1) hier.push_back({"freezer", "freezer"});
    }
    for (const auto& [h, key] : hier) {
        std::string base = std::string(kCgroupRoot) + (h.empty() ? "" : "/" + h);
        std::string dir = cgroupJoin(base + cgroupOwnPath(key), parent);
        DIR* d = ::opendir(dir.c_str());
        if (!d) continue;
        while (dirent* e = ::readdir(d)) {
            std::string name = e->d_name;
            // Only this instance's containers: another state dir's (or an untagged legacy
            // directory, whose owner cannot be told) is none of gc's business.
            if (e->d_type != DT_DIR || !name.starts_with(prefix) || name.size() == prefix.size())
                continue;
            std::string id = name.substr(prefix.size());
            Cgroup* cg = nullptr;
            for (auto& [known, c] : out)
                if (known == id) cg = &c;
            if (!cg) {
                out.push_back({id, Cgroup{}});
                cg = &out.back().second;
                cg->mode_ = *modeOr;
            }
            std::string full = dir + "/" + name;
            cg->dirs_.push_back(full);
            if (key == "memory") cg->memory_ = full;
            if (key == "pids") cg->pids_ = full;
            if (key == "cpu") cg->cpu_ = full;
            if (key == "freezer") cg->freezer_ = full;
            if (key == "devices") cg->devices_ = full;
            if (key.empty()) cg->unified_ = full;
            if (key.empty() && *modeOr == CgroupMode::Hybrid) cg->freezer_ = full;
            if (*modeOr == CgroupMode::V2) cg->memory_ = cg->pids_ = cg->cpu_ = cg->freezer_ = full;
        }
        ::closedir(d);
    }
    return out;
}

} // namespace tether::rt
