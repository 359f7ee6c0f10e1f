#include "ipam/owner_index.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "ipam/dir_file.hpp"

namespace tether::ipam {

using net::IpAddress;

namespace {

constexpr const char* kFile = "tether.owners";
constexpr char kMagic[16] = "tether-owners\n\0";
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 4096;
constexpr uint32_t kMinSlots = 4096;
constexpr uint32_t kMaxSlots = 1u << 24;
constexpr size_t kChunk = 64; // slots read per pread while probing

enum : uint8_t { kEmpty = 0, kUsed = 1, kDeleted = 2 };

struct Header {
    char magic[16];
    uint32_t version;
    uint32_t slots;
    uint32_t used;
    uint32_t tombstones;
};

struct Slot {
    uint64_t key;
    uint8_t state;
    uint8_t family;
    uint8_t pad[6];
    uint8_t addr[16];
};
static_assert(sizeof(Slot) == 32);

off_t slotOffset(uint32_t i) {
    return off_t(kHeaderSize + size_t(i) * sizeof(Slot));
}

uint64_t keyOf(const Owner& o) {
    uint64_t h = 14695981039346656037ull;
    auto mix = [&](std::string_view s) {
        for (unsigned char c : s)
            h = (h ^ c) * 1099511628211ull;
    };
    mix(o.containerId);
    mix(std::string_view("\0", 1));
    mix(o.ifname);
    return h == 0 ? 1 : h;
}

Slot slotFor(uint64_t key, const IpAddress& ip) {
    Slot s{};
    s.key = key;
    s.state = kUsed;
    s.family = uint8_t(ip.family());
    std::memcpy(s.addr, ip.bytes(), ip.size());
    return s;
}

std::optional<IpAddress> addressOf(const Slot& s) {
    if (s.family != uint8_t(net::Family::V4) && s.family != uint8_t(net::Family::V6))
        return std::nullopt;
    return IpAddress::fromBytes(net::Family(s.family), s.addr);
}

bool sameAddress(const Slot& s, const IpAddress& ip) {
    return s.family == uint8_t(ip.family()) && std::memcmp(s.addr, ip.bytes(), ip.size()) == 0;
}

// A whole table file: header and `slots` slots holding `entries` (load kept at most 1/2).
std::string buildTable(const std::vector<Slot>& entries) {
    uint32_t slots = kMinSlots;
    while (slots < kMaxSlots && entries.size() * 2 > slots)
        slots *= 2;
    std::string out(kHeaderSize + size_t(slots) * sizeof(Slot), '\0');
    Header h{};
    std::memcpy(h.magic, kMagic, sizeof h.magic);
    h.version = kVersion;
    h.slots = slots;
    auto* table = reinterpret_cast<Slot*>(out.data() + kHeaderSize);
    for (const Slot& e : entries) {
        uint32_t i = uint32_t(e.key) & (slots - 1);
        const std::optional<IpAddress> addr = addressOf(e);
        for (uint32_t n = 0; n < slots; ++n, i = (i + 1) & (slots - 1)) {
            if (table[i].state == kEmpty) {
                table[i] = e;
                ++h.used;
                break;
            }
            if (table[i].key == e.key && addr && sameAddress(table[i], *addr)) break;
        }
    }
    std::memcpy(out.data(), &h, sizeof h);
    return out;
}

Status preadAll(int fd, void* buf, size_t len, off_t at) {
    auto* p = static_cast<char*>(buf);
    while (len > 0) {
        ssize_t n = ::pread(fd, p, len, at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failErrno("read " + std::string(kFile), errno, Code::IoFailure);
        if (n == 0) return fail(Code::IoFailure, "read " + std::string(kFile) + ": truncated");
        p += n, len -= size_t(n), at += n;
    }
    return {};
}

Status pwriteAll(int fd, const void* buf, size_t len, off_t at) {
    const auto* p = static_cast<const char*>(buf);
    while (len > 0) {
        ssize_t n = ::pwrite(fd, p, len, at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failErrno("write " + std::string(kFile), errno, Code::IoFailure);
        p += n, len -= size_t(n), at += n;
    }
    return {};
}

} // namespace

struct OwnerIndex::Probe {
    std::vector<IpAddress> found;  ///< addresses under the key
    std::vector<uint32_t> matches; ///< slots holding the wanted key (and address)
    std::optional<uint32_t> free;  ///< first reusable slot on the path
    bool freeWasDeleted = false;   ///< that slot is a tombstone (not empty)
};

bool OwnerIndex::indexable(const Owner& owner) {
    return !owner.containerId.empty() && !owner.ifname.empty();
}

Expected<std::optional<OwnerIndex>> OwnerIndex::open(int dir) {
    using Out = std::optional<OwnerIndex>;
    int raw = ::openat(dir, kFile, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (raw < 0) {
        if (errno == ENOENT || errno == ELOOP || errno == ENXIO) return Out{};
        return failErrno("open " + std::string(kFile), errno, Code::IoFailure);
    }
    UniqueFd fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return failErrno("stat " + std::string(kFile), errno, Code::IoFailure);
    Header h{};
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || size_t(st.st_size) < kHeaderSize ||
        ::pread(fd.get(), &h, sizeof h, 0) != ssize_t(sizeof h))
        return Out{};
    bool pow2 = h.slots >= kMinSlots && h.slots <= kMaxSlots && (h.slots & (h.slots - 1)) == 0;
    if (std::memcmp(h.magic, kMagic, sizeof h.magic) != 0 || h.version != kVersion || !pow2 ||
        size_t(st.st_size) != size_t(slotOffset(h.slots)))
        return Out{};
    return Out(OwnerIndex(dir, std::move(fd), h.slots, h.used, h.tombstones));
}

Expected<OwnerIndex> OwnerIndex::create(int dir, const std::vector<Lease>& leases) {
    std::vector<Slot> entries;
    for (const Lease& l : leases)
        if (indexable(l.owner)) entries.push_back(slotFor(keyOf(l.owner), l.ip));
    TRY(writeFileAt(dir, kFile, buildTable(entries), {Place::Replace, 0600, false}));
    auto opened = TRY(open(dir));
    if (!opened) return fail(Code::IoFailure, std::string(kFile) + " vanished after writing it");
    return std::move(*opened);
}

Expected<OwnerIndex::Probe> OwnerIndex::probe(uint64_t key, const IpAddress* ip) {
    Probe p;
    Slot chunk[kChunk];
    uint32_t i = uint32_t(key) & (slots_ - 1);
    for (uint32_t seen = 0; seen < slots_;) {
        size_t n = std::min<size_t>(kChunk, slots_ - i);
        TRY(preadAll(fd_.get(), chunk, n * sizeof(Slot), slotOffset(i)));
        for (size_t k = 0; k < n && seen < slots_; ++k, ++seen) {
            const Slot& s = chunk[k];
            uint32_t at = i + uint32_t(k);
            if (s.state == kEmpty) {
                if (!p.free) p.free = at;
                return p;
            }
            if (s.state == kDeleted) {
                if (!p.free) p.free = at, p.freeWasDeleted = true;
                continue;
            }
            if (s.key != key) continue;
            if (auto a = addressOf(s)) p.found.push_back(*a);
            if (!ip || sameAddress(s, *ip)) p.matches.push_back(at);
        }
        i = (i + uint32_t(n)) & (slots_ - 1);
    }
    return p;
}

Status OwnerIndex::writeSlot(uint32_t at, uint64_t key, uint8_t state, const IpAddress* ip) {
    Slot s{};
    if (ip) s = slotFor(key, *ip);
    s.key = key;
    s.state = state;
    return pwriteAll(fd_.get(), &s, sizeof s, slotOffset(at));
}

Status OwnerIndex::writeCounts() {
    uint32_t counts[2] = {used_, tombstones_};
    return pwriteAll(fd_.get(), counts, sizeof counts, off_t(offsetof(Header, used)));
}

Status OwnerIndex::rehash() {
    std::vector<Slot> all(slots_);
    TRY(preadAll(fd_.get(), all.data(), all.size() * sizeof(Slot), slotOffset(0)));
    std::erase_if(all, [](const Slot& s) { return s.state != kUsed || !addressOf(s); });
    TRY(writeFileAt(dir_, kFile, buildTable(all), {Place::Replace, 0600, false}));
    auto reopened = TRY(open(dir_));
    if (!reopened) return fail(Code::IoFailure, std::string(kFile) + " vanished after rewriting");
    *this = std::move(*reopened);
    return {};
}

Expected<std::vector<IpAddress>> OwnerIndex::find(const Owner& owner) {
    if (!indexable(owner)) return std::vector<IpAddress>{};
    return TRY(probe(keyOf(owner), nullptr)).found;
}

Status OwnerIndex::add(const Owner& owner, const IpAddress& ip) {
    if (!indexable(owner)) return {};
    if (size_t(used_ + tombstones_ + 1) * 4 > size_t(slots_) * 3) TRY(rehash());
    uint64_t key = keyOf(owner);
    Probe p = TRY(probe(key, &ip));
    if (!p.matches.empty()) return {};
    if (!p.free) return fail(Code::IoFailure, std::string(kFile) + ": no free slot");
    TRY(writeSlot(*p.free, key, kUsed, &ip));
    ++used_;
    if (p.freeWasDeleted && tombstones_ > 0) --tombstones_;
    return writeCounts();
}

Expected<bool> OwnerIndex::remove(const Owner& owner, const IpAddress& ip) {
    if (!indexable(owner)) return false;
    uint64_t key = keyOf(owner);
    Probe p = TRY(probe(key, &ip));
    for (uint32_t at : p.matches) {
        TRY(writeSlot(at, key, kDeleted, nullptr));
        if (used_ > 0) --used_;
        ++tombstones_;
    }
    if (!p.matches.empty()) TRY(writeCounts());
    return !p.matches.empty();
}

} // namespace tether::ipam
