// The dhcp plugin's packet decoder: a datagram from the network (any server on the container's
// link can send one) goes through decode(), the lease's routes and the CNI result built from it,
// the way the daemon does on an OFFER/ACK. The first byte selects an extra round trip through the
// client's encoder. Invariants (__builtin_trap() when broken):
//   - decode accepts only a BOOTREPLY with the magic cookie and a one-byte message type;
//   - every route has a prefix in 0..32 and no host bits set;
//   - the CNI result of an accepted reply is written (dump) in every spec version and parses again;
//   - a client message encoded from the input's options decodes (as a reply) to the same options.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "cni/json_limits.hpp"
#include "cni/result.hpp"
#include "cni/version.hpp"
#include "plugins/dhcp/dhcp_message.hpp"
#include "plugins/dhcp/lease.hpp"

using namespace tether;
using namespace tether::dhcp;

namespace {

void checkRoutes(const ServerMessage& m) {
    for (const auto& r : leaseRoutes(m)) {
        if (r.prefix < 0 || r.prefix > 32) __builtin_trap();
        Ip4 mask = r.prefix == 0 ? 0 : ~Ip4(0) << (32 - r.prefix);
        if ((r.dst & ~mask) != 0) __builtin_trap();
    }
}

void checkResult(const ServerMessage& m) {
    cni::Result r = resultOf(m);
    for (const auto& v : cni::supportedVersions()) {
        auto out = cni::toJson(r, v);
        if (!out) continue; // e.g. a version that cannot express a field: an error, not a crash
        std::string text = out->dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
        auto back = cni::parseJsonChecked(text, "dhcp result");
        if (!back) __builtin_trap();
        if (!cni::parseResult(*back, v)) __builtin_trap();
    }
}

// Encodes a client message carrying the options of `m` (as the daemon sends `provide`), turns
// it into a reply and decodes it: every option must come back as it was (at most 255 bytes).
void checkRoundTrip(const ServerMessage& m) {
    ClientMessage c;
    c.type = MsgType::Request;
    c.xid = m.xid;
    c.mac = m.chaddr;
    for (const auto& [code, value] : m.options)
        if (code != opt::MessageType && code != opt::ParamRequest && code != 52)
            c.options[code] = value;
    auto bytes = encode(c);
    if (bytes.size() < 300) __builtin_trap();
    if (decode(bytes.data(), bytes.size())) __builtin_trap(); // a BOOTREQUEST is never a reply
    bytes[0] = 2;
    auto back = decode(bytes.data(), bytes.size());
    if (!back || back->type != MsgType::Request || back->xid != m.xid) __builtin_trap();
    for (const auto& [code, value] : c.options) {
        if (code == opt::Pad || code == opt::End) continue;
        auto it = back->options.find(code);
        size_t len = value.size() > 255 ? 255 : value.size();
        if (it == back->options.end() || it->second.size() != len ||
            !std::equal(it->second.begin(), it->second.end(), value.begin()))
            __builtin_trap();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const bool roundTrip = data[0] & 1;
    ++data;
    --size;
    auto m = decode(data, size);
    if (!m) return 0;
    if (size < 240 || data[0] != 2 || std::memcmp(data + 236, "\x63\x82\x53\x63", 4) != 0)
        __builtin_trap();
    auto t = m->options.find(opt::MessageType);
    if (t == m->options.end() || t->second.size() != 1) __builtin_trap();
    (void)m->u32(opt::LeaseTime);
    (void)m->address(opt::ServerId);
    if (auto mask = m->address(opt::SubnetMask)) (void)maskPrefix(*mask);
    checkRoutes(*m);
    checkResult(*m);
    if (roundTrip) checkRoundTrip(*m);
    return 0;
}
