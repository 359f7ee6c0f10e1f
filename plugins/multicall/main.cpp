// tether-cni: every tether CNI plugin in one executable, installed as hard links named after the
// plugins (bridge, veth, ptp, host-local, static, loopback, portmap, tuning, bandwidth, macvlan,
// host-device, sbr, tap). It runs the plugin it is invoked as (the basename of argv[0]), or the one
// named by its first argument when run as `tether-cni NAME`. One binary lets a plugin that
// delegates to another (bridge/veth/macvlan -> host-local/static) run it in-process when CNI_PATH
// resolves it to this same file (cni/builtin.hpp).
#include <cstdio>
#include <span>
#include <string_view>

#include "cni/builtin.hpp"
#include "cni/skel.hpp"
#include "plugins/bandwidth/bandwidth.hpp"
#include "plugins/bridge/bridge.hpp"
#include "plugins/host-device/host_device.hpp"
#include "plugins/host-local/host_local.hpp"
#include "plugins/loopback/loopback.hpp"
#include "plugins/macvlan/macvlan.hpp"
#include "plugins/portmap/portmap.hpp"
#include "plugins/sbr/sbr.hpp"
#include "plugins/static/static_ipam.hpp"
#include "plugins/tap/tap.hpp"
#include "plugins/tuning/tuning.hpp"
#include "plugins/veth/veth_plugin.hpp"

namespace {

using tether::cni::PluginFuncs;

struct Entry {
    std::string_view name;
    PluginFuncs (*funcs)();
    std::string_view about;
    std::span<const std::string_view> versions = {}; ///< empty = every supported version
};

constexpr Entry kPlugins[] = {
    {"bridge", tether::bridge::pluginFuncs, "tether bridge plugin"},
    {"veth", tether::veth::pluginFuncs, "tether veth (ptp) plugin"},
    {"ptp", tether::veth::pluginFuncs, "tether veth (ptp) plugin"},
    {"host-local", tether::hostlocal::pluginFuncs, "tether host-local IPAM plugin"},
    {"loopback", tether::loopback::pluginFuncs, "tether loopback plugin"},
    {"portmap", tether::portmap::pluginFuncs, "tether portmap plugin"},
    {"macvlan", tether::macvlan::pluginFuncs, "tether macvlan plugin"},
    {"host-device", tether::hostdevice::pluginFuncs, "tether host-device plugin"},
    {"tuning", tether::tuning::pluginFuncs, "tether tuning plugin"},
    {"bandwidth", tether::bandwidth::pluginFuncs, "tether bandwidth plugin",
     tether::bandwidth::kVersions},
    {"sbr", tether::sbr::pluginFuncs, "tether source-based routing plugin"},
    {"static", tether::staticipam::pluginFuncs, "tether static IPAM plugin"},
    {"tap", tether::tap::pluginFuncs, "tether tap plugin"},
};

std::string_view baseName(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

const Entry* find(std::string_view name) {
    for (const auto& e : kPlugins)
        if (e.name == name) return &e;
    return nullptr;
}

} // namespace

int main(int argc, char** argv) {
    std::string_view name = argc > 0 ? baseName(argv[0]) : "";
    if (!find(name) && argc > 1) name = argv[1];
    const Entry* entry = find(name);
    if (!entry) {
        std::fprintf(stderr, "tether-cni: run as (or with the first argument) one of:");
        for (const auto& e : kPlugins)
            std::fprintf(stderr, " %.*s", int(e.name.size()), e.name.data());
        std::fprintf(stderr, "\n");
        return 1;
    }
    for (const auto& e : kPlugins)
        if (e.name == "host-local" || e.name == "static")
            tether::cni::registerBuiltinPlugin(e.name, e.funcs(),
                                               {.about = e.about, .name = e.name});
    return tether::cni::pluginMain(
        entry->funcs(), {.about = entry->about, .versions = entry->versions, .name = entry->name});
}
