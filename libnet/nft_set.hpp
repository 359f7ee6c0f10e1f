// Set and map elements of an existing nftables table, spoken directly over nfnetlink (libmnl):
// one batch per change, one dump per listing, no library start-up and no text parsing. Keys and
// data are the kernel's raw bytes (a concatenation is each field padded to 4 bytes); the element
// comment travels as libnftnl's user-data TLV, so `nft list` shows it as `comment "..."`.
// Table, set and chain creation stays with libnftables (libnet/nft.hpp): it is rare and wordy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "libnet/ip.hpp"

namespace tether::net {

/// One element of a set or map.
struct SetElem {
    std::string set;             ///< set or map name
    std::vector<uint8_t> key;    ///< NFTA_SET_ELEM_KEY value
    std::vector<uint8_t> keyEnd; ///< NFTA_SET_ELEM_KEY_END (concatenated ranges), empty otherwise
    std::vector<uint8_t> data;   ///< map data, empty for sets
    std::string comment;         ///< owner tag; empty = none
};

/// Builds concatenated keys/data the way nft lays them out: every field padded to 4 bytes.
class ConcatBuilder {
  public:
    ConcatBuilder& addr(const IpAddress& a); ///< 4 or 16 bytes, network order
    ConcatBuilder& proto(uint8_t p);         ///< inet_proto: 1 byte
    ConcatBuilder& port(uint16_t p);         ///< inet_service: 2 bytes, network order
    [[nodiscard]] std::vector<uint8_t> bytes() const { return b_; }

  private:
    void pad();
    std::vector<uint8_t> b_;
};

/// Every element of `set` in `table` (family NFPROTO_INET, ...) of the calling thread's netns, in
/// one dump. A missing table or set is code 3 with errnum ENOENT.
Expected<std::vector<SetElem>> listSetElements(uint8_t family, std::string_view table,
                                               std::string_view set);

/// The elements among `keys` (set, key, keyEnd used; data/comment ignored) that exist, with their
/// data and comment as stored: one GETSETELEM request per key, no dump. Missing keys are skipped.
Expected<std::vector<SetElem>> getSetElements(uint8_t family, std::string_view table,
                                              const std::vector<SetElem>& keys);

/// What one transaction changes.
struct SetChanges {
    std::vector<SetElem> del;    ///< deleted first
    std::vector<SetElem> create; ///< must not exist yet (`create element`)
    std::vector<SetElem> add;    ///< may exist already with the same data (`add element`)
};

/// One atomic transaction. An existing key in `create` fails the whole transaction with code 102
/// / errnum EEXIST: nothing is changed. Other kernel errors are code 100 with `what` and the
/// element's set in the message. Nothing to change: nothing is sent.
/// After deletions the socket's final release (which waits an RCU grace period in the kernel)
/// is left to a lingering child process, off the caller's critical path.
Status commitSetElements(uint8_t family, std::string_view table, const SetChanges& changes,
                         std::string_view what);

} // namespace tether::net
