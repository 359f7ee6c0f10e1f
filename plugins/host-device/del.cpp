#include "base/error_list.hpp"
#include "cni/invoke.hpp"
#include "libnet/link.hpp"
#include "libnet/link_dump.hpp"
#include "plugins/host-device/host_device.hpp"
#include "plugins/host-device/restore.hpp"
#include "plugins/iface/single_link.hpp"

namespace tether::hostdevice {

namespace {

// Where the device is now, in the host: under its original name (an earlier DEL got this far), or
// under another name with our alias and its MAC (the kernel moved a physical device back when the
// container netns went away, named like in the container or "devN"). nullopt when it is nowhere:
// a virtual device (veth, macvlan, ...) is destroyed with its netns.
Expected<std::optional<net::LinkRecord>> findReturned(net::NetlinkSocket& host, const Saved& s) {
    const auto links = TRY(net::listLinks(host));
    for (const auto& l : links)
        if (l.name == s.name) return std::optional(l);
    for (const auto& l : links)
        if (l.alias == s.name && (s.mac.empty() || l.mac == s.mac)) return std::optional(l);
    return std::optional<net::LinkRecord>();
}

// The device part of DEL. Returns whether the attachment is finished (state file can go).
Expected<bool> returnDevice(const cni::CmdArgs& args, net::NetlinkSocket& host,
                            const std::optional<Saved>& saved) {
    bool back = false;
    if (!args.netns.empty()) {
        if (auto ns = TRY(net::Netns::openIfExists(args.netns))) {
            auto csock = TRY(net::NetlinkSocket::openIn(*ns));
            if (auto link = TRY(net::findLink(csock, std::string_view(args.ifname)))) {
                std::string name = saved ? saved->name : "";
                if (name.empty()) name = TRY(net::getLinkRecord(csock, link->index)).alias;
                if (name.empty())
                    return fail(Code::Internal, "no saved state and no alias on " + args.ifname +
                                                    ": its original name is unknown");
                TRY(moveToHost(csock, link->index, name, args.ifname));
                if (!saved) return true; // reference-style attachment: the name is all we know
                back = true;
            }
        }
    }
    if (!saved) return true; // nothing of ours: already cleaned up
    if (!back) {
        auto found = TRY(findReturned(host, *saved));
        if (!found) return true; // destroyed with the container's netns
        if (found->name != saved->name) {
            TRY(net::setLinkUp(host, found->index, false));
            auto st = net::renameLink(host, found->index, saved->name);
            if (!st)
                return std::unexpected(
                    st.error().wrap("rename " + found->name + " back to " + saved->name));
        }
    }
    TRY(restoreInHost(host, *saved));
    return true;
}

} // namespace

Status cmdDel(const cni::CmdArgs& args) {
    ErrorList errors;
    Config c;
    if (auto parsed = parseConfig(args)) c = *parsed; // the default dataDir otherwise
    if (c.pciBusId.empty() || !hasDpdkDriver(c.pciBusId)) {
        const std::string path = statePath(c, args);
        auto saved = readSaved(path);
        errors.add(saved);
        auto host = net::NetlinkSocket::open();
        if (!host) {
            errors.add(host.error());
        } else {
            auto done = returnDevice(args, *host, saved ? *saved : std::nullopt);
            if (!done)
                errors.add(done.error());
            else if (*done)
                errors.add(removeSaved(path));
        }
    }
    if (!args.conf.ipamType.empty())
        errors.add(cni::delegateDel(args.conf.ipamType, args.stdinData));
    return errors.result("DEL");
}

Status cmdCheck(const cni::CmdArgs& args) {
    TRY(parseConfig(args));
    return plugin::checkSingleLink(args, nullptr);
}

} // namespace tether::hostdevice
