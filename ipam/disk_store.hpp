// The on-disk reservation store, file-compatible with the reference host-local plugin in both
// directions:
//   <dataDir>/<network>/            0755
//     <ip>                          0600, "<containerID>\r\n<ifname>" (legacy: "<containerID>")
//     last_reserved_ip.<setIndex>   the address text
//     lock                          flock(LOCK_EX) held around every operation
//     tether.owners                 0600, owner -> addresses hash table (tether only, OwnerIndex)
// The index lets DEL and CHECK find an attachment's reservations without reading every lease.
// Reservations the index does not know (made by the reference after the index was built) are
// found by a scan when a lookup finds nothing indexed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "ipam/owner_index.hpp"
#include "ipam/store.hpp"

namespace tether::ipam {

struct DiskStoreOptions {
    std::string dataDir = "/var/lib/cni/networks";
    std::string network;    ///< validated: ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ (code 7 otherwise)
    bool create = true;     ///< create missing directories; false = fail with code 5 instead
    bool syncLeases = true; ///< fdatasync each lease before it becomes visible
    /// ADD: the owner of the reservations to come and how many (one per range set). That many
    /// lease files are written and synced before the lock is taken, so concurrent ADDs on the
    /// network do not wait for each other's fdatasync (reserve() links them under the lock).
    const Owner* prepareFor = nullptr;
    size_t prepareLeases = 0;
};

class DiskStore final : public Store {
  public:
    /// Opens the network directory (creating dataDir and it with 0755 as needed; a network
    /// directory that is a symlink is refused) and takes the exclusive lock, held until the
    /// store is destroyed.
    static Expected<std::unique_ptr<DiskStore>> open(const DiskStoreOptions& opts);

    Expected<bool> reserve(const Owner& owner, const net::IpAddress& ip, size_t setIndex) override;
    std::optional<net::IpAddress> lastReserved(size_t setIndex) override;
    Expected<std::vector<net::IpAddress>> findByOwner(const Owner& owner, Lookup lookup) override;
    Expected<bool> releaseIp(const net::IpAddress& ip, const Owner& owner) override;
    Expected<size_t> releaseOwner(const Owner& owner) override;
    Expected<std::vector<Lease>> leases() override;
    Expected<std::vector<net::IpAddress>> reservedAddresses() override;
    Expected<bool> forceRelease(const net::IpAddress& ip) override;

    /// Checks that a file can be created in the network directory (STATUS).
    Status checkWritable();
    /// Rebuilds the owner index from the reservation files (dropping entries of reservations
    /// that are gone or changed hands) and removes an earlier version's index directory;
    /// returns how many index entries were dropped.
    Expected<size_t> pruneIndex();

    /// The lease file content for `owner`: "<containerID>\r\n<ifname>".
    static std::string leaseContent(const Owner& owner);
    /// Parses lease content (surrounding whitespace ignored); legacy content gives an empty
    /// ifname, empty content an empty owner.
    static Owner parseLeaseContent(std::string_view content);

  private:
    DiskStore(UniqueFd dir, UniqueFd lock, bool sync)
        : dir_(std::move(dir)), lock_(std::move(lock)), sync_(sync) {}

    /// Links a lease file prepared before the lock (prepareFor) as `name`; nullopt when none
    /// is left for this owner's content (the caller writes one then).
    Expected<std::optional<bool>> placePrepared(const std::string& content,
                                                const std::string& name);

    Expected<std::optional<Owner>> leaseOwner(const std::string& name);
    /// The owner index, opened on first use; nullptr when there is none and !create.
    Expected<OwnerIndex*> ownerIndex(bool create);
    Expected<size_t> removeLegacyIndex();
    Expected<std::optional<std::vector<net::IpAddress>>> readIndex(const Owner& owner);
    Expected<std::vector<net::IpAddress>> scanOwner(const Owner& owner, bool exactOnly);

    UniqueFd dir_;
    UniqueFd lock_;
    std::optional<OwnerIndex> index_;
    bool indexLoaded_ = false;
    bool sync_ = true;
    std::string preparedContent_;    ///< the content of the prepared_ files
    std::vector<UniqueFd> prepared_; ///< synced, nameless lease files not yet linked
};

} // namespace tether::ipam
