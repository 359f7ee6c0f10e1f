#include "ipam/disk_store.hpp"
#include "base/fault_point.hpp"

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

// The per-attachment index files of earlier tether versions (one file per attachment, each a
// new inode); replaced by OwnerIndex and removed when the table is first made.
constexpr const char* kLegacyIndexDir = "tether.index";
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
    // O_NONBLOCK: a FIFO planted as `lock` must not block the open; it is refused just below.
    raw =
        ::openat(dir.get(), "lock", O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (raw < 0)
        return failErrno("open lock " + opts.dataDir + "/" + opts.network + "/lock", errno,
                         Code::IoFailure);
    UniqueFd lock(raw);
    struct stat lockStat {};
    if (::fstat(lock.get(), &lockStat) != 0 || !S_ISREG(lockStat.st_mode))
        return fail(Code::IoFailure,
                    "lock " + opts.dataDir + "/" + opts.network + "/lock: not a regular file");
    // The lease files' inodes, content and fdatasync before the lock: under it only link(2).
    std::vector<UniqueFd> prepared;
    std::string content;
    if (opts.prepareFor) {
        content = leaseContent(*opts.prepareFor);
        for (size_t i = 0; i < opts.prepareLeases; ++i) {
            UniqueFd fd = TRY(prepareFile(dir.get(), content, 0600, opts.syncLeases));
            if (!fd) break; // no O_TMPFILE here: reserve() writes each lease itself
            prepared.push_back(std::move(fd));
        }
    }
    while (::flock(lock.get(), LOCK_EX) != 0) {
        if (errno != EINTR)
            return failErrno("lock " + opts.dataDir + "/" + opts.network, errno, Code::IoFailure);
    }
    std::unique_ptr<DiskStore> store(
        new DiskStore(std::move(dir), std::move(lock), opts.syncLeases));
    store->preparedContent_ = std::move(content);
    store->prepared_ = std::move(prepared);
    return store;
}

Expected<std::optional<bool>> DiskStore::placePrepared(const std::string& content,
                                                       const std::string& name) {
    if (prepared_.empty() || content != preparedContent_) return std::optional<bool>{};
    if (!TRY(linkPrepared(prepared_.back().get(), dir_.get(), name))) return std::optional(false);
    prepared_.pop_back(); // linked: never link the same inode twice
    return std::optional(true);
}

Expected<std::optional<Owner>> DiskStore::leaseOwner(const std::string& name) {
    auto content = TRY(readSmallFile(dir_.get(), name, 1024));
    if (!content) return std::optional<Owner>{};
    return std::optional<Owner>(parseLeaseContent(*content));
}

Expected<OwnerIndex*> DiskStore::ownerIndex(bool create) {
    if (!indexLoaded_) {
        index_ = TRY(OwnerIndex::open(dir_.get()));
        indexLoaded_ = true;
    }
    if (!index_ && create) {
        // First use in this directory: index what is there already (reservations of the
        // reference or of an earlier tether), so lookups of those are O(1) too.
        std::vector<Lease> present = TRY(leases());
        index_ = TRY(OwnerIndex::create(dir_.get(), present));
        TRY(removeLegacyIndex());
    }
    return index_ ? &*index_ : nullptr;
}

Expected<size_t> DiskStore::removeLegacyIndex() {
    int raw =
        ::openat(dir_.get(), kLegacyIndexDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (raw < 0) return size_t{0};
    UniqueFd legacy(raw);
    size_t removed = 0;
    for (const DirEntry& e : TRY(listDirectory(legacy.get())))
        if (!e.isDir && TRY(unlinkAt(legacy.get(), e.name))) ++removed;
    if (::unlinkat(dir_.get(), kLegacyIndexDir, AT_REMOVEDIR) != 0 && errno != ENOENT)
        return failErrno(std::string("remove ") + kLegacyIndexDir, errno, Code::IoFailure);
    return removed;
}

Expected<std::optional<std::vector<IpAddress>>> DiskStore::readIndex(const Owner& owner) {
    using Out = std::optional<std::vector<IpAddress>>;
    OwnerIndex* idx = TRY(ownerIndex(false));
    if (!idx) return Out{};
    return Out(TRY(idx->find(owner)));
}

Expected<bool> DiskStore::reserve(const Owner& owner, const IpAddress& ip, size_t setIndex) {
    const std::string name = ip.str();
    if (TRY(existsAt(dir_.get(), name))) return false;
    const std::string content = leaseContent(owner);
    std::optional<bool> viaPrepared = TRY(placePrepared(content, name));
    bool placed =
        viaPrepared ? *viaPrepared
                    : TRY(writeFileAt(dir_.get(), name, content, {Place::Exclusive, 0600, sync_}));
    if (!placed) return false;
    TETHER_FAULT_POINT("ipam.after-lease-file");
    auto undo = [&](Error e) -> Expected<bool> {
        (void)unlinkAt(dir_.get(), name);
        return std::unexpected(std::move(e));
    };
    auto last = writeFileAt(dir_.get(), std::string(kLastReserved) + std::to_string(setIndex), name,
                            {Place::Overwrite, 0600, false});
    if (!last) return undo(last.error().wrap("record last reserved address"));
    TETHER_FAULT_POINT("ipam.after-last-reserved");
    // A reservation the index does not know would be missed by a DEL that finds the owner's
    // other addresses there: no reservation without its index entry.
    auto idx = ownerIndex(true);
    if (!idx) return undo(idx.error().wrap("open reservation index"));
    if (auto st = (*idx)->add(owner, ip); !st)
        return undo(st.error().wrap("update reservation index"));
    return true;
}

std::optional<IpAddress> DiskStore::lastReserved(size_t setIndex) {
    auto content =
        readSmallFile(dir_.get(), std::string(kLastReserved) + std::to_string(setIndex), 128);
    if (!content) return std::nullopt;
    const std::optional<std::string>& text = *content;
    if (!text) return std::nullopt;
    return IpAddress::parse(trimSpace(*text));
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
    if (OwnerIndex* idx = TRY(ownerIndex(false))) TRY(idx->remove(owner, ip));
    return removed;
}

Expected<size_t> DiskStore::releaseOwner(const Owner& owner) {
    size_t released = 0;
    if (OwnerIndex* idx = TRY(ownerIndex(false))) {
        std::vector<IpAddress> indexed = TRY(idx->find(owner));
        for (const IpAddress& ip : indexed) {
            auto o = TRY(leaseOwner(ip.str()));
            if (o && *o == owner && TRY(unlinkAt(dir_.get(), ip.str()))) ++released;
            // Gone, or ours and released now: the entry goes. Another owner's (hash collision,
            // or the address re-reserved by another implementation) stays for GC to judge.
            if (!o || *o == owner) TRY(idx->remove(owner, ip));
        }
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
    OwnerIndex* idx = TRY(ownerIndex(false));
    size_t legacy = TRY(removeLegacyIndex());
    if (!idx) return legacy;
    uint32_t before = idx->size();
    std::vector<Lease> present = TRY(leases());
    index_ = TRY(OwnerIndex::create(dir_.get(), present));
    return legacy + (before > index_->size() ? before - index_->size() : 0);
}

} // namespace tether::ipam
