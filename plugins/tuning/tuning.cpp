// tuning ADD / DEL / CHECK / GC. ADD: validate, read the originals, save them, then change the
// sysctls and the link with an undo step each; DEL restores what the state file recorded.
#include "plugins/tuning/tuning.hpp"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>

#include "base/error_list.hpp"
#include "base/undo_stack.hpp"
#include "libnet/link.hpp"
#include "libnet/link_extra.hpp"
#include "libnet/sysctl.hpp"
#include "plugins/iface/nat.hpp"
#include "plugins/iface/teardown.hpp"
#include "plugins/tuning/state.hpp"

namespace tether::tuning {

namespace {

// Reads a sysctl inside the calling thread's netns after checking that its path really is a file
// below /proc/sys/net (no symlink leading elsewhere). Code 7 naming the key otherwise.
Expected<std::string> readChecked(const Sysctl& s) {
    std::string full = "/proc/sys/" + s.path;
    char resolved[PATH_MAX];
    if (!::realpath(full.c_str(), resolved))
        return fail(Code::InvalidConfig,
                    "sysctl " + s.key + " (" + full + "): " + std::strerror(errno));
    if (!std::string_view(resolved).starts_with("/proc/sys/net/"))
        return fail(Code::InvalidConfig,
                    "sysctl " + s.key + " resolves to " + resolved + ", outside /proc/sys/net");
    return net::readSysctl(s.path);
}

// readChecked for each sysctl, in order.
Expected<std::vector<std::string>> readAll(const std::vector<Sysctl>& sysctls) {
    std::vector<std::string> out;
    out.reserve(sysctls.size());
    for (const auto& s : sysctls)
        out.push_back(TRY(readChecked(s)));
    return out;
}

Status done(const Expected<bool>& e) {
    if (!e) return std::unexpected(e.error());
    return {};
}

bool anyLinkChange(const Config& c) {
    return !c.mac.empty() || c.promisc || c.mtu || c.txQLen || c.allmulti;
}

// What the state file records for `c`: the original of everything ADD is about to change.
Saved originals(const cni::CmdArgs& args, const Config& c, const net::LinkTuning& link,
                const std::vector<std::string>& sysctlValues) {
    Saved s{.network = args.conf.name, .containerId = args.containerId, .ifname = args.ifname};
    if (!c.mac.empty()) s.mac = link.mac;
    if (c.promisc) s.promisc = link.promisc;
    if (c.mtu) s.mtu = link.mtu;
    if (c.allmulti) s.allmulti = link.allmulti;
    if (c.txQLen) s.txQLen = link.txQLen;
    for (size_t i = 0; i < c.sysctls.size(); ++i)
        s.sysctls.emplace_back(c.sysctls[i].path, sysctlValues[i]);
    return s;
}

// Applies the link changes of `c`, pushing the reversal of each.
Status applyLink(net::NetlinkSocket& sock, int index, const Config& c, const net::LinkTuning& orig,
                 UndoStack& undo) {
    if (!c.mac.empty()) {
        TRY(net::setLinkMac(sock, index, c.mac));
        undo.push([&sock, index, m = orig.mac] { (void)net::setLinkMac(sock, index, m); });
    }
    if (c.promisc && !orig.promisc) {
        TRY(net::setLinkPromisc(sock, index, true));
        undo.push([&sock, index] { (void)net::setLinkPromisc(sock, index, false); });
    }
    if (c.mtu) {
        TRY(net::setLinkMtu(sock, index, *c.mtu));
        undo.push([&sock, index, m = orig.mtu] { (void)net::setLinkMtu(sock, index, m); });
    }
    if (c.txQLen) {
        TRY(net::setLinkTxQLen(sock, index, *c.txQLen));
        undo.push([&sock, index, q = orig.txQLen] { (void)net::setLinkTxQLen(sock, index, q); });
    }
    if (c.allmulti) {
        TRY(net::setLinkAllmulti(sock, index, *c.allmulti));
        undo.push(
            [&sock, index, a = orig.allmulti] { (void)net::setLinkAllmulti(sock, index, a); });
    }
    return {};
}

// Puts back what a state file recorded; every step runs, failures are collected.
Status restore(const net::Netns& ns, net::NetlinkSocket& sock, int index, const Saved& s) {
    ErrorList errors;
    auto wrap = [](Status st, const std::string& what) -> Status {
        if (!st) return std::unexpected(std::move(st).error().wrap(what));
        return {};
    };
    if (s.mtu) errors.add(wrap(net::setLinkMtu(sock, index, s.mtu), "restore MTU"));
    if (!s.mac.empty())
        errors.add(wrap(net::setLinkMac(sock, index, s.mac), "restore MAC address"));
    if (s.promisc)
        errors.add(wrap(net::setLinkPromisc(sock, index, *s.promisc), "restore promiscuous mode"));
    if (s.allmulti)
        errors.add(wrap(net::setLinkAllmulti(sock, index, *s.allmulti), "restore all-multicast"));
    if (s.txQLen)
        errors.add(wrap(net::setLinkTxQLen(sock, index, *s.txQLen), "restore txqueuelen"));
    for (const auto& [path, value] : s.sysctls)
        errors.add(wrap(net::writeSysctl(ns, path, value), "restore sysctl " + path));
    return errors.result("tuning restore of " + s.ifname);
}

} // namespace

Expected<cni::Result> cmdAdd(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    TRY(checkAllowlist(c));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "Required prevResult missing: tuning must be chained");
    cni::Result result = *args.conf.prevResult;
    if (c.sysctls.empty() && !anyLinkChange(c)) return result;

    auto ns = TRY(net::Netns::open(args.netns));
    auto sock = TRY(net::NetlinkSocket::openIn(ns));
    auto link = TRY(net::getLink(sock, args.ifname));
    auto orig = TRY(net::getLinkTuning(sock, link.index));
    auto values = TRY(net::inNetns(ns, [&] { return readAll(c.sysctls); }));

    const std::string file = backupPath(c.dataDir, args.containerId, args.ifname);
    UndoStack undo;
    // A repeated ADD of the same attachment keeps the values saved by the first one: those are
    // the originals DEL must put back, not the values the first ADD set.
    auto earlier = readSaved(file);
    if (!earlier || !*earlier) {
        TRY(writeSaved(file, originals(args, c, orig, values)));
        undo.push([file] { (void)removeSaved(file); });
    }
    for (size_t i = 0; i < c.sysctls.size(); ++i) {
        const Sysctl& s = c.sysctls[i];
        if (auto st = net::writeSysctl(ns, s.path, s.value); !st)
            return std::unexpected(std::move(st).error().wrap("set sysctl " + s.key));
        undo.push([&ns, path = s.path, v = values[i]] { (void)net::writeSysctl(ns, path, v); });
    }
    TRY(applyLink(sock, link.index, c, orig, undo));
    undo.commit();

    if (!c.mac.empty())
        for (auto& itf : result.interfaces)
            if (itf.name == args.ifname) itf.mac = c.mac;
    return result;
}

Status cmdDel(const cni::CmdArgs& args) {
    // Only dataDir matters here; a config that no longer parses still gets its state restored.
    std::string dataDir = "/run/cni/tuning";
    if (auto c = parseConfig(args)) dataDir = c->dataDir;
    const std::string file = backupPath(dataDir, args.containerId, args.ifname);
    auto saved = readSaved(file);
    if (!saved) { // unreadable leftovers cannot be restored: drop them
        (void)removeSaved(file);
        return {};
    }
    const std::optional<Saved>& backup = *saved;
    if (!backup) return {};
    if (!args.netns.empty()) {
        auto ns = TRY(net::Netns::openIfExists(args.netns));
        if (ns) {
            auto sock = TRY(net::NetlinkSocket::openIn(*ns));
            auto link = TRY(net::findLink(sock, args.ifname));
            if (link) TRY(restore(*ns, sock, link->index, *backup));
        }
    }
    TRY(removeSaved(file));
    return {};
}

Status cmdCheck(const cni::CmdArgs& args) {
    const Config c = TRY(parseConfig(args));
    if (!args.conf.prevResult)
        return fail(Code::InvalidConfig, "Required prevResult missing: tuning must be chained");
    auto ns = TRY(net::Netns::open(args.netns));
    auto current = TRY(net::inNetns(ns, [&] { return readAll(c.sysctls); }));
    for (size_t i = 0; i < c.sysctls.size(); ++i)
        if (current[i] != c.sysctls[i].value)
            return fail(Code::Internal, "tuning: configured value of sysctl " + c.sysctls[i].key +
                                            " is " + c.sysctls[i].value + ", current value is " +
                                            current[i]);
    auto sock = TRY(net::NetlinkSocket::openIn(ns));
    auto link = TRY(net::findLink(sock, args.ifname));
    if (!link) return fail(Code::Internal, "tuning: cannot find container link " + args.ifname);
    auto t = TRY(net::getLinkTuning(sock, link->index));
    auto mismatch = [&](const std::string& what, const std::string& want, const std::string& have) {
        return fail(Code::Internal, "tuning: configured " + what + " of " + args.ifname + " is " +
                                        want + ", current value is " + have);
    };
    auto b = [](bool v) { return std::string(v ? "true" : "false"); };
    if (!c.mac.empty() && c.mac != t.mac) return mismatch("MAC address", c.mac, t.mac);
    if (c.promisc != t.promisc) return mismatch("promisc", b(c.promisc), b(t.promisc));
    if (c.mtu && *c.mtu != t.mtu)
        return mismatch("MTU", std::to_string(*c.mtu), std::to_string(t.mtu));
    if (c.txQLen && *c.txQLen != t.txQLen)
        return mismatch("txQLen", std::to_string(*c.txQLen), std::to_string(t.txQLen));
    if (c.allmulti && *c.allmulti != t.allmulti)
        return mismatch("all-multicast mode", b(*c.allmulti), b(t.allmulti));
    return {};
}

Status cmdGc(const cni::CmdArgs& args) {
    std::string dataDir = "/run/cni/tuning";
    if (auto d = args.conf.raw.find("dataDir");
        d != args.conf.raw.end() && d->is_string() && !d->get<std::string>().empty())
        dataDir = d->get<std::string>();
    auto valid = plugin::validAttachments(args.conf.raw);
    DIR* dir = ::opendir(dataDir.c_str());
    if (!dir) return {}; // nothing saved yet
    ErrorList errors;
    while (dirent* e = ::readdir(dir)) {
        std::string name = e->d_name;
        if (name.starts_with(".") || !name.ends_with(".json")) continue;
        auto saved = readSaved(dataDir + "/" + name);
        // Only files that name their owner and belong to this network: the reference's files
        // (no owner) and other networks' stay.
        if (!saved) continue;
        const std::optional<Saved>& backup = *saved;
        if (!backup || backup->network != args.conf.name) continue;
        const Saved& s = *backup;
        bool keep = false;
        for (const auto& [cid, ifname] : valid)
            keep = keep || (cid == s.containerId && ifname == s.ifname);
        if (!keep) errors.add(done(removeSaved(dataDir + "/" + name)));
    }
    ::closedir(dir);
    return errors.result("tuning GC of network " + args.conf.name);
}

cni::PluginFuncs pluginFuncs() {
    return {.add = cmdAdd, .del = cmdDel, .check = cmdCheck, .status = {}, .gc = cmdGc};
}

} // namespace tether::tuning
