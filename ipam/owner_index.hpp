// The owner index of a host-local network directory: which addresses an attachment holds,
// without reading every reservation file.
//
// One file, <network dir>/tether.owners, holding an open-addressing hash table (linear probing)
// keyed by a 64-bit hash of "<containerID>\0<ifname>". It is updated in place with pread/pwrite
// of single 32-byte slots, so an ADD or DEL changes a few bytes and never creates or removes a
// file (a new inode per operation is what made file creation slower and slower on ext4 without
// a journal). Only the table's growth or a GC rebuilds the file (written aside, renamed in).
//
// The index is a hint, never the truth: the reservation files are. A slot names a key and an
// address, not the owner, so callers verify every address against its reservation file (a hash
// collision or a reservation released by another implementation yields an address that is not
// the owner's). A crash between a reservation and its slot leaves a reservation the index does
// not know; lookups that find nothing fall back to scanning (see DiskStore).
//
// Layout (host byte order): a 4096-byte header — magic "tether-owners\n\0\0", u32 version (1),
// u32 slot count (a power of two), u32 used, u32 tombstones — then the slots:
//   u64 key (never 0), u8 state (0 empty, 1 used, 2 deleted), u8 family (4 or 6), 6 bytes pad,
//   16 bytes address (IPv4 in the first 4).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/unique_fd.hpp"
#include "ipam/store.hpp"

namespace tether::ipam {

class OwnerIndex {
  public:
    /// Whether `owner` can be indexed: both container ID and ifname are known (legacy
    /// reservations holding only a container ID are found by scanning).
    static bool indexable(const Owner& owner);

    /// Opens the index of the network directory `dir`. nullopt when there is none, or what is
    /// there is not a table of ours (wrong magic, version or size, not a regular file).
    static Expected<std::optional<OwnerIndex>> open(int dir);

    /// Writes a new index holding the indexable reservations of `leases` and places it
    /// atomically over any existing one.
    static Expected<OwnerIndex> create(int dir, const std::vector<Lease>& leases);

    /// The addresses recorded under `owner`'s key (unverified: see the file comment).
    Expected<std::vector<net::IpAddress>> find(const Owner& owner);

    /// Records `ip` for `owner` (no-op when recorded already or not indexable). Grows the table
    /// (rewriting the file) when more than three quarters of its slots are taken.
    Status add(const Owner& owner, const net::IpAddress& ip);

    /// Forgets `ip` for `owner`; false when it was not recorded.
    Expected<bool> remove(const Owner& owner, const net::IpAddress& ip);

    /// Number of addresses recorded.
    [[nodiscard]] uint32_t size() const { return used_; }

  private:
    OwnerIndex(int dir, UniqueFd fd, uint32_t slots, uint32_t used, uint32_t tombstones)
        : dir_(dir), fd_(std::move(fd)), slots_(slots), used_(used), tombstones_(tombstones) {}

    struct Probe;
    Expected<Probe> probe(uint64_t key, const net::IpAddress* ip);
    Status writeSlot(uint32_t at, uint64_t key, uint8_t state, const net::IpAddress* ip);
    Status writeCounts();
    Status rehash();

    int dir_ = -1; ///< the network directory (not owned)
    UniqueFd fd_;
    uint32_t slots_ = 0;
    uint32_t used_ = 0;
    uint32_t tombstones_ = 0;
};

} // namespace tether::ipam
