#include "cni/json_fields.hpp"
#include "libnet/link.hpp"
#include "plugins/host-device/host_device.hpp"
#include "plugins/iface/single_link.hpp"

namespace tether::hostdevice {

Expected<Config> parseConfig(const cni::CmdArgs& args) {
    const nlohmann::json& raw = args.conf.raw;
    Config c;
    if (auto v = TRY(cni::fields::optString(raw, "device", ""))) c.device = *v;
    if (auto v = TRY(cni::fields::optString(raw, "hwaddr", ""))) c.hwaddr = *v;
    if (auto v = TRY(cni::fields::optString(raw, "kernelpath", ""))) c.kernelPath = *v;
    if (auto v = TRY(cni::fields::optString(raw, "pciBusID", ""))) c.pciBusId = *v;
    if (auto v = TRY(cni::fields::optString(args.conf.runtimeConfig, "deviceID", "runtimeConfig"));
        v && !v->empty())
        c.pciBusId = *v;
    if (auto v = TRY(cni::fields::optString(raw, "dataDir", "")); v && !v->empty()) {
        if ((*v)[0] != '/')
            return fail(Code::InvalidConfig, "dataDir \"" + *v + "\" must be an absolute path");
        c.dataDir = *v;
    }
    if (c.device.empty() && c.hwaddr.empty() && c.kernelPath.empty() && c.pciBusId.empty())
        return fail(Code::InvalidConfig,
                    R"(specify either "device", "hwaddr", "kernelpath" or "pciBusID")");
    TRY(plugin::checkIfNameKey("device", c.device));
    if (!c.hwaddr.empty() && !net::parseMac(c.hwaddr))
        return fail(Code::InvalidConfig, "failed to parse MAC address \"" + c.hwaddr + "\"");
    if (!c.kernelPath.empty() && (c.kernelPath.rfind("/sys/devices/", 0) != 0 ||
                                  c.kernelPath.find("/../") != std::string::npos))
        return fail(Code::InvalidConfig, "kernel device path \"" + c.kernelPath +
                                             "\" must be absolute and begin with /sys/devices/");
    if (!c.pciBusId.empty() &&
        (c.pciBusId.find('/') != std::string::npos || c.pciBusId == "." || c.pciBusId == ".."))
        return fail(Code::InvalidConfig, "invalid PCI address \"" + c.pciBusId + "\"");
    return c;
}

std::string statePath(const Config& c, const cni::CmdArgs& args) {
    return c.dataDir + "/" + args.containerId + "_" + args.ifname + ".json";
}

cni::PluginFuncs pluginFuncs() {
    return plugin::singleLinkFuncs(cmdAdd, cmdDel, cmdCheck);
}

} // namespace tether::hostdevice
