#include "base/digest.hpp"

#include <nettle/base64.h>
#include <nettle/sha2.h>

#include <cstdint>

namespace tether {

std::string sha512Hex(std::string_view data) {
    sha512_ctx ctx;
    sha512_init(&ctx);
    sha512_update(&ctx, data.size(), reinterpret_cast<const uint8_t*>(data.data()));
    uint8_t digest[SHA512_DIGEST_SIZE];
    sha512_digest(&ctx, sizeof digest, digest);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * sizeof digest);
    for (uint8_t b : digest) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

std::string base64Encode(std::string_view data) {
    std::string out(BASE64_ENCODE_RAW_LENGTH(data.size()), '\0');
    base64_encode_raw(out.data(), data.size(), reinterpret_cast<const uint8_t*>(data.data()));
    return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
    base64_decode_ctx ctx;
    base64_decode_init(&ctx);
    std::string out(BASE64_DECODE_LENGTH(text.size()), '\0');
    size_t length = out.size();
    if (!base64_decode_update(&ctx, &length, reinterpret_cast<uint8_t*>(out.data()), text.size(),
                              text.data()) ||
        !base64_decode_final(&ctx))
        return std::nullopt;
    out.resize(length);
    return out;
}

} // namespace tether
