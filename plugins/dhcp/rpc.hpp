// The plugin <-> daemon protocol over the daemon's unix stream socket. One request per
// connection: the client writes one JSON object and shuts its write side down; the daemon answers
// with one JSON object and closes. Not wire-compatible with the reference daemon (Go net/rpc).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace tether::dhcp {

/// Default socket path, as the reference.
inline constexpr const char* kDefaultSocketPath = "/run/cni/dhcp.sock";
/// Largest request or reply accepted on the socket.
inline constexpr size_t kMaxMessage = 64 * 1024;

/// What the plugin asks the daemon. `method` is "add", "del", "check" or "status".
struct Request {
    std::string method;
    std::string clientId; ///< the lease key: <containerID>/<network>/<ifname>, ≤ 254 bytes
    std::string netns;    ///< absolute path (the daemon prepends its -hostprefix)
    std::string ifname;
    std::vector<uint8_t> paramRequest;               ///< option 55 contents
    std::map<uint8_t, std::vector<uint8_t>> provide; ///< options sent verbatim (incl. 61)
    uint32_t timeoutMs = 0; ///< how long ADD may wait for a lease; 0 = the daemon's -timeout
};

nlohmann::json toJson(const Request& r);
/// Code 6 naming the key when a field is missing or malformed.
Expected<Request> requestFromJson(const nlohmann::json& j);

/// The reply: `{"result": <CNI result JSON in 1.1.0>}` or `{"error": {code,msg,details}}`.
nlohmann::json errorReply(const Error& e);
/// The Error carried by an error reply (code 999 when it is not one).
Error errorFromReply(const nlohmann::json& reply);

/// Connects to `socketPath`, sends `request`, waits at most `timeoutMs` for the reply and
/// returns it. When nothing listens: code 11 "DHCP daemon not running: connect <path>: <errno
/// text>" so the runtime may retry once it is started.
Expected<nlohmann::json> call(const std::string& socketPath, const nlohmann::json& request,
                              int timeoutMs);

/// Lowercase hex of bytes, and back (nullopt on odd length or non-hex characters).
std::string toHex(const std::vector<uint8_t>& b);
std::optional<std::vector<uint8_t>> fromHex(const std::string& s);

} // namespace tether::dhcp
