#include "ipam/disk_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "ipam/dir_file.hpp"

namespace tether::ipam {

using net::IpAddress;

namespace {

constexpr std::string_view kIndexDir = "tether.index";
constexpr std::string_view kIndexHeader = "tether-ipam-index 1\n";
constexpr std::string_view kLastReserved = "last_reserved_ip.";

bool validNetworkName(std::string_view n) {
    if (n.empty()) return false;
    auto ok = [](char c, bool first) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
        return !first && (c == '_' || c == '.' || c == '-');
    };
    for (size_t i = 0; i < n.size(); ++i)
        if (!ok(n[i], i == 0)) return false;
    return true;
}

std::string_view trimSpace(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n\v\f";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

// The index file of an attachment, or empty when it cannot have one (legacy owner, a name that
// is not a single path component or is too long): such attachments are found by scanning.
std::string indexName(const Owner& o) {
    if (o.containerId.empty() || o.ifname.empty()) return {};
    std::string n = o.containerId + ":" + o.ifname;
    if (n.size() > 255 || n.find('/') != std::string::npos || n.find('\0') != std::string::npos)
        return {};
    return n;
}

std::optional<Owner> ownerFromIndexName(std::string_view n) {
    auto colon = n.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == n.size()) return std::nullopt;
    return Owner{std::string(n.substr(0, colon)), std::string(n.substr(colon + 1))};
}

} // namespace

std::string DiskStore::leaseContent(const Owner& owner) {
    return std::string(trimSpace(owner.containerId)) + "\r\n" + owner.ifname;
}

Owner DiskStore::parseLeaseContent(std::string_view content) {
    std::string_view t = trimSpace(content);
    auto sep = t.find("\r\n");
    if (sep == std::string_view::npos) return Owner{std::string(t), {}};
    return Owner{std::string(t.substr(0, sep)), std::string(t.substr(sep + 2))};
}

Expected<std::unique_ptr<DiskStore>> DiskStore::open(const DiskStoreOptions& opts) {
    if (!validNetworkName(opts.network))
        return fail(Code::InvalidConfig, "invalid network name \"" + opts.network +
                                             "\": must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
    if (opts.dataDir.empty()) return fail(Code::InvalidConfig, "ipam.dataDir: must not be empty");
    UniqueFd base;
    if (opts.create) {
        // mkdir -p of dataDir: intermediate components are the administrator's choice and may
        // be symlinks (e.g. /var/lib/cni on another volume).
        std::string path;
        size_t pos = 0;
        while (pos != std::string::npos) {
            pos = opts.dataDir.find('/', pos + 1);
            path = opts.dataDir.substr(0, pos);
            if (!path.empty() && ::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
                return failErrno("ipam.dataDir: create " + path, errno, Code::IoFailure);
        }
    }
    int raw = ::open(opts.dataDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (raw < 0) return failErrno("ipam.dataDir: open " + opts.dataDir, errno, Code::IoFailure);
    base.reset(raw);
    UniqueFd dir;
    if (opts.create) {
        auto d = openDirectory(base.get(), opts.network, 0755);
        if (!d) return std::unexpected(d.error().wrap("ipam.dataDir " + opts.dataDir));
        dir = std::move(*d);
    } else {
        raw = ::openat(base.get(), opts.network.c_str(),
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (raw < 0)
            return failErrno("open " + opts.dataDir + "/" + opts.network, errno, Code::IoFailure);
        dir.reset(raw);
    }
    raw = ::openat(dir.get(), "lock", O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0)
        return failErrno("open lock " + opts.dataDir + "/" + opts.network + "/lock", errno,
                         Code::IoFailure);
    UniqueFd lock(raw);
    while (::flock(lock.get(), LOCK_EX) != 0) {
        if (errno != EINTR)
            return failErrno("lock " + opts.dataDir + "/" + opts.network, errno, Code::IoFailure);
    }
    return std::unique_ptr<DiskStore>(
        new DiskStore(std::move(dir), std::move(lock), opts.syncLeases));
}

Expected<std::optional<Owner>> DiskStore::leaseOwner(const std::string& name) {
    auto content = TRY(readSmallFile(dir_.get(), name, 1024));
    if (!content) return std::optional<Owner>{};
    return std::optional<Owner>(parseLeaseContent(*content));
}

Expected<int> DiskStore::indexDir(bool create) {
    if (index_) return index_.get();
    std::string name(kIndexDir);
    if (!create) {
        int raw =
            ::openat(dir_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (raw < 0) return -1;
        index_.reset(raw);
        return index_.get();
    }
    index_ = TRY(openDirectory(dir_.get(), name, 0700));
    return index_.get();
}

Expected<std::optional<std::vector<IpAddress>>> DiskStore::readIndex(const Owner& owner) {
    using Out = std::optional<std::vector<IpAddress>>;
    std::string name = indexName(owner);
    if (name.empty()) return Out{};
    int idx = TRY(indexDir(false));
    if (idx < 0) return Out{};
    auto content = TRY(readSmallFile(idx, name, 64 * 1024));
    if (!content || !content->starts_with(kIndexHeader)) return Out{};
    std::vector<IpAddress> ips;
    std::string_view rest = std::string_view(*content).substr(kIndexHeader.size());
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        if (auto ip = IpAddress::parse(trimSpace(line))) ips.push_back(*ip);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
    return Out(std::move(ips));
}

Status DiskStore::writeIndex(const Owner& owner, const std::vector<IpAddress>& ips) {
    std::string name = indexName(owner);
    if (name.empty()) return {};
    int idx = TRY(indexDir(true));
    if (ips.empty()) {
        TRY(unlinkAt(idx, name));
        return {};
    }
    std::string content(kIndexHeader);
    for (const IpAddress& ip : ips)
        content += ip.str() + "\n";
    TRY(writeFileAt(idx, name, content, {Place::Replace, 0600, false}));
    return {};
}

Expected<bool> DiskStore::reserve(const Owner& owner, const IpAddress& ip, size_t setIndex) {
    const std::string name = ip.str();
    if (TRY(existsAt(dir_.get(), name))) return false;
    bool placed =
        TRY(writeFileAt(dir_.get(), name, leaseContent(owner), {Place::Exclusive, 0600, sync_}));
    if (!placed) return false;
    auto undo = [&](Error e) -> Expected<bool> {
        (void)unlinkAt(dir_.get(), name);
        return std::unexpected(std::move(e));
    };
    auto last = writeFileAt(dir_.get(), std::string(kLastReserved) + std::to_string(setIndex), name,
                            {Place::Overwrite, 0600, false});
    if (!last) return undo(last.error().wrap("record last reserved address"));
    auto current = readIndex(owner);
    if (!current) return undo(current.error());
    std::vector<IpAddress> ips = current->value_or(std::vector<IpAddress>{});
    if (std::find(ips.begin(), ips.end(), ip) == ips.end()) ips.push_back(ip);
    if (auto st = writeIndex(owner, ips); !st) {
        // A stale index would hide this lease from DEL; without an index DEL scans instead.
        auto idx = indexDir(false);
        if (!idx || *idx < 0 || !unlinkAt(*idx, indexName(owner)))
            return undo(st.error().wrap("update reservation index"));
    }
    return true;
}

std::optional<IpAddress> DiskStore::lastReserved(size_t setIndex) {
    auto content =
        readSmallFile(dir_.get(), std::string(kLastReserved) + std::to_string(setIndex), 128);
    if (!content || !*content) return std::nullopt;
    return IpAddress::parse(trimSpace(**content));
}

Expected<std::vector<IpAddress>> DiskStore::scanOwner(const Owner& owner, bool exactOnly) {
    std::vector<IpAddress> exact, legacy;
    for (const DirEntry& e : TRY(listDirectory(dir_.get()))) {
        if (e.isDir) continue;
        auto ip = IpAddress::parse(e.name);
        if (!ip) continue;
        auto o = TRY(leaseOwner(e.name));
        if (!o) continue;
        if (*o == owner)
            exact.push_back(*ip);
        else if (o->ifname.empty() && !o->containerId.empty() &&
                 o->containerId == trimSpace(owner.containerId))
            legacy.push_back(*ip);
    }
    if (!exactOnly)
        exact.insert(exact.end(), legacy.begin(), legacy.end());
    else if (exact.empty())
        return legacy;
    return exact;
}

Expected<std::vector<IpAddress>> DiskStore::findByOwner(const Owner& owner, Lookup lookup) {
    std::vector<IpAddress> held;
    auto index = TRY(readIndex(owner));
    if (index) {
        for (const IpAddress& ip : *index) {
            auto o = TRY(leaseOwner(ip.str()));
            if (o && *o == owner) held.push_back(ip);
        }
    }
    if (!held.empty() || lookup == Lookup::Indexed) return held;
    return scanOwner(owner, false);
}

Expected<bool> DiskStore::releaseIp(const IpAddress& ip, const Owner& owner) {
    auto o = TRY(leaseOwner(ip.str()));
    if (!o || !(*o == owner || (o->ifname.empty() && o->containerId == owner.containerId)))
        return false;
    bool removed = TRY(unlinkAt(dir_.get(), ip.str()));
    if (auto index = TRY(readIndex(owner))) {
        std::erase(*index, ip);
        TRY(writeIndex(owner, *index));
    }
    return removed;
}

Expected<size_t> DiskStore::releaseOwner(const Owner& owner) {
    size_t released = 0;
    auto index = TRY(readIndex(owner));
    if (index) {
        for (const IpAddress& ip : *index) {
            auto o = TRY(leaseOwner(ip.str()));
            if (o && *o == owner && TRY(unlinkAt(dir_.get(), ip.str()))) ++released;
        }
        TRY(writeIndex(owner, {}));
    }
    if (released > 0) return released;
    // No index (reserved by another implementation, or released already): scan like the
    // reference: exact owner first, else legacy reservations of the container ID.
    for (const IpAddress& ip : TRY(scanOwner(owner, true)))
        if (TRY(unlinkAt(dir_.get(), ip.str()))) ++released;
    return released;
}

Expected<std::vector<Lease>> DiskStore::leases() {
    std::vector<Lease> out;
    for (const DirEntry& e : TRY(listDirectory(dir_.get()))) {
        if (e.isDir) continue;
        auto ip = IpAddress::parse(e.name);
        if (!ip) continue;
        auto o = TRY(leaseOwner(e.name));
        out.push_back({*ip, o.value_or(Owner{})});
    }
    return out;
}

Expected<std::vector<IpAddress>> DiskStore::reservedAddresses() {
    std::vector<IpAddress> out;
    for (const DirEntry& e : TRY(listDirectory(dir_.get())))
        if (!e.isDir)
            if (auto ip = IpAddress::parse(e.name)) out.push_back(*ip);
    return out;
}

Expected<bool> DiskStore::forceRelease(const IpAddress& ip) {
    return unlinkAt(dir_.get(), ip.str());
}

Status DiskStore::checkWritable() {
    int raw = ::openat(dir_.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (raw >= 0) {
        ::close(raw);
        return {};
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return failErrno("store directory is not writable", errno, Code::IoFailure);
    if (::faccessat(dir_.get(), ".", W_OK, 0) != 0)
        return failErrno("store directory is not writable", errno, Code::IoFailure);
    return {};
}

Expected<size_t> DiskStore::pruneIndex() {
    int idx = TRY(indexDir(false));
    if (idx < 0) return size_t{0};
    size_t removed = 0;
    for (const DirEntry& e : TRY(listDirectory(idx))) {
        auto owner = ownerFromIndexName(e.name);
        if (e.isDir || !owner) continue;
        auto ips = TRY(readIndex(*owner)).value_or(std::vector<IpAddress>{});
        std::vector<IpAddress> live;
        for (const IpAddress& ip : ips) {
            auto o = TRY(leaseOwner(ip.str()));
            if (o && *o == *owner) live.push_back(ip);
        }
        if (live.size() == ips.size() && !live.empty()) continue;
        TRY(writeIndex(*owner, live));
        if (live.empty()) ++removed;
    }
    return removed;
}

} // namespace tether::ipam
