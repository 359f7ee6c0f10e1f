// nftables transactions through libnftables (the library under the `nft` tool, which builds one
// netlink batch per command buffer over libmnl/libnftnl — no exec). The library is loaded with
// dlopen on first use, so plugins that never touch nftables do not pay for loading it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace tether::net {

class Nft {
  public:
    /// Loads libnftables.so.1 and creates a context in the calling thread's netns.
    /// Code 50 "nftables support unavailable: ..." when the library is missing.
    static Expected<Nft> open();
    Nft(Nft&& o) noexcept : ctx_(o.ctx_) { o.ctx_ = nullptr; }
    Nft& operator=(Nft&&) = delete;
    Nft(const Nft&) = delete;
    ~Nft();

    /// Runs `script` (nft syntax, several commands separated by newlines) as ONE atomic
    /// transaction. A kernel/parse error is code 100 "<what>: <nft's message>" with the failing
    /// command in details; errnum is EEXIST/ENOENT when nft reports "File exists"/"No such file".
    Status run(std::string_view script, std::string_view what);

    /// Runs a read command (e.g. "list set inet tether masq4") and returns its JSON output text.
    Expected<std::string> listJson(std::string_view command, std::string_view what);

  private:
    explicit Nft(void* ctx) : ctx_(ctx) {}
    void* ctx_ = nullptr;
};

/// Whether nftables table `name` of `family` (NFPROTO_INET, ...) exists in the calling thread's
/// netns: one NFT_MSG_GETTABLE request over libmnl, no dump. Cheap enough for every ADD.
Expected<bool> nftTableExists(uint8_t family, const std::string& name);

} // namespace tether::net
