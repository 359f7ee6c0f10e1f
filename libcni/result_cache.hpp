// The result cache in libcni's layout, so attachments made by containerd, CRI-O or podman's CNI
// backend can be deleted by tether and the other way round:
// <cacheDir>/results/<network>-<containerID>-<ifname> (dir 0700, file 0600) holding
// {"kind":"cniCacheV1","containerId","config":<base64 conflist>,"ifName","networkName","netns",
//  "cniArgs":[[k,v]],"capabilityArgs":{},"result":{}}. The legacy format (a bare result) is read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "libcni/list_exec.hpp"
#include "libcni/netconf.hpp"

namespace tether::rt {

struct CachedAttachment {
    std::string network;
    std::string containerId;
    std::string ifname;
    std::string netns;
    std::string config; ///< the conflist bytes (decoded)
    RuntimeConf rt;     ///< containerId, netns, ifname, args, capabilityArgs
    std::optional<nlohmann::json> result;
};

/// The cache file path of an attachment.
std::string cachePath(const std::string& cacheDir, const std::string& network,
                      const std::string& containerId, const std::string& ifname);

/// Writes the entry atomically (temp file + rename), creating <cacheDir>/results 0700.
Status writeCache(const std::string& cacheDir, const NetworkList& list, const RuntimeConf& rt,
                  const nlohmann::json& result);

/// Reads an entry; nullopt when there is none. A corrupt file is an error (code 6).
Expected<std::optional<CachedAttachment>> readCache(const std::string& cacheDir,
                                                    const std::string& network,
                                                    const std::string& containerId,
                                                    const std::string& ifname);

/// Removes an entry; missing is fine.
void removeCache(const std::string& cacheDir, const std::string& network,
                 const std::string& containerId, const std::string& ifname);

/// Every readable cniCacheV1 entry (of `network` when non-empty).
std::vector<CachedAttachment> listCache(const std::string& cacheDir, const std::string& network);

/// Removes the temp files (`<file>.tmp<pid>`) a writer killed between creating and renaming
/// left in the results dir: those whose name starts with `prefix` ("" = every one) and whose
/// writer process is gone. removeCache does it for its attachment, `tether net gc --all` for all.
void pruneCacheTemps(const std::string& cacheDir, const std::string& prefix);

} // namespace tether::rt
