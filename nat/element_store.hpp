// Where the nftables NAT backend keeps its per-attachment elements: the sets and maps of table
// inet tether (nat_table.hpp), or an in-memory fake (memory_store.hpp) for the planning tests.
// The planning (nft_backend.cpp: which elements an ADD adds, which a DEL removes, conflicts,
// GC) only talks to this interface; the kernel calls are all in KernelStore.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "libnet/nft_set.hpp"

namespace tether::nat {

/// The elements of the NAT sets/maps, with the transaction semantics of nf_tables.
class ElementStore {
  public:
    virtual ~ElementStore() = default;
    /// Makes sure the table with its static sets exists (creating it when missing).
    virtual Status ensure() = 0;
    /// Every element of `sets`; nothing when the table does not exist yet. A set that does not
    /// exist ends the listing (as nat::listElements).
    virtual Expected<std::vector<net::SetElem>> list(const std::vector<std::string>& sets) = 0;
    /// The stored elements among `keys` (set, key, keyEnd compared), with their data and comment;
    /// missing keys are skipped. No table: errnum ENOENT.
    virtual Expected<std::vector<net::SetElem>> get(const std::vector<net::SetElem>& keys) = 0;
    /// One atomic transaction (net::SetChanges): deletions, then creations (an existing key is
    /// code 102 / errnum EEXIST), then additions (an existing key is kept as it is). A missing
    /// set, or deleting a missing element, is errnum ENOENT. On any error nothing is changed.
    virtual Status commit(const net::SetChanges& changes, std::string_view what) = 0;
};

/// Table inet tether in the calling thread's netns, through netlink (nat_table.hpp).
ElementStore& kernelStore();

} // namespace tether::nat
