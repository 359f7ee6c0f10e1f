// validAttachments (declared in nat.hpp) in a file of its own: GC of tuning and bandwidth uses it,
// and keeping it out of nat.cpp keeps nat/ (libmnl, libnftables) out of plugins that do no NAT.
#include <nlohmann/json.hpp>

#include "plugins/iface/nat.hpp"

namespace tether::plugin {

std::vector<std::pair<std::string, std::string>> validAttachments(const nlohmann::json& raw) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
        auto it = raw.find(key);
        if (it == raw.end() || !it->is_array()) continue;
        for (const auto& a : *it)
            if (a.is_object() && a.value("containerID", "") != "")
                out.emplace_back(a.value("containerID", ""), a.value("ifname", ""));
        return out;
    }
    return out;
}

} // namespace tether::plugin
