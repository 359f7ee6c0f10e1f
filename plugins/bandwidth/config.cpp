// Parsing of the bandwidth limits; no kernel calls.
#include <unistd.h>

#include "cni/json_fields.hpp"
#include "plugins/bandwidth/bandwidth.hpp"
#include "plugins/bandwidth/sha512.hpp"

namespace tether::bandwidth {

using nlohmann::json;

namespace {

constexpr const char* kKeys[] = {"ingressRate", "ingressBurst", "egressRate", "egressBurst"};

Expected<uint64_t> unsignedField(const json& obj, const char* key, const std::string& prefix) {
    const json* v = cni::fields::get(obj, key);
    if (!v) return 0;
    if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0))
        return cni::fields::typeError(cni::fields::join(prefix, key), "a non-negative integer");
    return v->get<uint64_t>();
}

Status checkPair(const char* dir, uint64_t rate, uint64_t burst) {
    auto bad = [&](const std::string& why) {
        return fail(Code::InvalidConfig, std::string("invalid ") + dir + "Rate " +
                                             std::to_string(rate) + " / " + dir + "Burst " +
                                             std::to_string(burst) + ": " + why);
    };
    if (burst == 0 && rate != 0) return bad("if rate is set, burst must also be set");
    if (rate == 0 && burst != 0) return bad("if burst is set, rate must also be set");
    if (burst / 8 >= 0xFFFFFFFFull) return bad("burst cannot be more than 4GB");
    if (rate != 0 && rate < 8) return bad("rate must be at least 8 bits/s (1 byte/s)");
    if (burst != 0 && burst < 8) return bad("burst must be at least 8 bits (1 byte)");
    return {};
}

void warnSubnets(const json& obj) {
    for (const char* k : {"shapedSubnets", "unshapedSubnets"})
        if (cni::fields::get(obj, k)) {
            std::string msg = std::string("bandwidth: ") + k +
                              " is not supported (the reference removed it); all traffic is "
                              "shaped\n";
            (void)!::write(2, msg.data(), msg.size());
        }
}

} // namespace

Expected<Limits> parseConfig(const cni::CmdArgs& args) {
    const json* src = &args.conf.raw;
    std::string prefix;
    bool topLevel = false;
    for (const char* k : kKeys)
        topLevel = topLevel || cni::fields::get(args.conf.raw, k);
    if (!topLevel) {
        const json* rc =
            TRY(cni::fields::optObject(args.conf.runtimeConfig, "bandwidth", "runtimeConfig"));
        if (!rc) return Limits{};
        src = rc;
        prefix = "runtimeConfig.bandwidth";
    }
    warnSubnets(*src);
    Limits l;
    l.ingressRate = TRY(unsignedField(*src, "ingressRate", prefix));
    l.ingressBurst = TRY(unsignedField(*src, "ingressBurst", prefix));
    l.egressRate = TRY(unsignedField(*src, "egressRate", prefix));
    l.egressBurst = TRY(unsignedField(*src, "egressBurst", prefix));
    TRY(checkPair("ingress", l.ingressRate, l.ingressBurst));
    TRY(checkPair("egress", l.egressRate, l.egressBurst));
    return l;
}

std::string ifbName(const std::string& network, const std::string& containerId) {
    return "bwp" + sha512Hex(network + containerId).substr(0, 12);
}

std::string ownerAlias(const std::string& network, const std::string& containerId) {
    return "tether-bandwidth:" + network + ":" + containerId;
}

} // namespace tether::bandwidth
