// CNI_ARGS ("K=V;K2=V2") parsing with the reference semantics, and name validation.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace tether::cni {

using ArgPairs = std::vector<std::pair<std::string, std::string>>;

/// Splits CNI_ARGS into pairs. Each item must be exactly K=V (code 4 "ARGS: invalid pair \"x\"").
/// Keys outside `known` (case-sensitive) are an error (code 4 "ARGS: unknown args [...]") unless
/// IgnoreUnknown is 1/true (any case). Empty input gives no pairs. IgnoreUnknown itself is kept.
Expected<ArgPairs> parseCniArgs(std::string_view raw,
                                std::initializer_list<std::string_view> known);

/// The value of `key` in `pairs`, or nullptr.
const std::string* findArg(const ArgPairs& pairs, std::string_view key);

/// Longest container ID accepted. Runtimes use 64 (containerd, CRI-O, podman) or fewer; the bound
/// keeps every file named after an attachment (libcni's cache `<net>-<id>-<ifname>`, tuning's
/// `<id>_<ifname>.json`) under NAME_MAX and every lease file's owner line readable whole.
constexpr size_t kMaxContainerIdLength = 128;
/// Longest network name accepted: it names a directory (host-local's `<dataDir>/<name>`) and is
/// part of cache file names.
constexpr size_t kMaxNetworkNameLength = 96;

/// Container IDs and network names: ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ and at most the lengths above.
/// Container ID errors use code 4 (code 3 when empty), network names code 7.
Status validateContainerId(std::string_view id);
Status validateNetworkName(std::string_view name);

/// Interface names: 1..15 bytes, not "." or "..", no '/', ':' or whitespace (code 4).
Status validateIfName(std::string_view ifname);

/// Plugin type: non-empty, no '/', not "." or ".." (code 7).
Status validatePluginType(std::string_view type);

} // namespace tether::cni
