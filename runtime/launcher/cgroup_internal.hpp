// Shared by cgroup.cpp (create, control) and cgroup_list.cpp (ownership, gc listing). Internal
// to runtime/launcher.
#pragma once

#include <string>

namespace tether::rt {

inline constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

/// This process's path in the hierarchy named `key` ("memory", "name=systemd", "" for v2), "/"
/// when /proc/self/cgroup does not say.
std::string cgroupOwnPath(const std::string& key);
/// a + "/" + b without doubling a trailing slash of a.
std::string cgroupJoin(const std::string& a, const std::string& b);

} // namespace tether::rt
