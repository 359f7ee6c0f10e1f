#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "libnet/link.hpp"
#include "plugins/host-device/host_device.hpp"

namespace tether::hostdevice {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSysBusPci = "/sys/bus/pci/devices/";

// Entries of a sysfs "net" directory, sorted (the reference takes the first by name).
std::vector<std::string> netEntries(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        out.push_back(it->path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

Expected<net::LinkRecord> byName(const std::vector<net::LinkRecord>& links, const std::string& name,
                                 const std::string& what) {
    for (const auto& l : links)
        if (l.name == name) return l;
    return fail(Code::InvalidConfig, what + ": no interface " + name + " in the host netns");
}

} // namespace

bool hasDpdkDriver(const std::string& pciBusId) {
    std::error_code ec;
    auto target = fs::read_symlink(fs::path(kSysBusPci) / pciBusId / "driver", ec);
    if (ec) return false;
    const std::string driver = target.filename().string();
    return driver == "vfio-pci" || driver == "uio_pci_generic" || driver == "igb_uio";
}

Expected<net::LinkRecord> findHostDevice(net::NetlinkSocket& sock, const Config& c) {
    const auto links = TRY(net::listLinks(sock));
    if (!c.device.empty()) return byName(links, c.device, "device \"" + c.device + "\"");
    if (!c.hwaddr.empty()) {
        const auto want = net::parseMac(c.hwaddr);
        for (const auto& l : links)
            if (auto mac = net::parseMac(l.mac); mac && mac == want) return l;
        return fail(Code::InvalidConfig,
                    "hwaddr \"" + c.hwaddr + "\": no interface with this MAC in the host netns");
    }
    if (!c.kernelPath.empty()) {
        const fs::path dir = fs::path(c.kernelPath) / "net";
        auto names = netEntries(dir);
        if (names.empty())
            return fail(Code::InvalidConfig, "kernelpath \"" + c.kernelPath +
                                                 "\": no network devices at " + dir.string());
        for (const auto& n : names)
            for (const auto& l : links)
                if (l.name == n) return l;
        return fail(Code::InvalidConfig,
                    "kernelpath \"" + c.kernelPath + "\": its devices are not in the host netns");
    }
    fs::path dir = fs::path(kSysBusPci) / c.pciBusId / "net";
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        // virtio devices keep their netdev one level down: .../virtioN/net
        dir.clear();
        for (fs::directory_iterator it(fs::path(kSysBusPci) / c.pciBusId, ec), end;
             !ec && it != end; it.increment(ec))
            if (it->path().filename().string().rfind("virtio", 0) == 0 &&
                fs::exists(it->path() / "net", ec)) {
                dir = it->path() / "net";
                break;
            }
        if (dir.empty())
            return fail(Code::InvalidConfig, "pciBusID \"" + c.pciBusId +
                                                 "\": no net directory under pci device " +
                                                 c.pciBusId);
    }
    auto names = netEntries(dir);
    if (names.empty())
        return fail(Code::InvalidConfig,
                    "pciBusID \"" + c.pciBusId + "\": failed to find device name for pci address");
    return byName(links, names.front(), "pciBusID \"" + c.pciBusId + "\"");
}

} // namespace tether::hostdevice
