// Parsing of the bandwidth limits; no kernel calls.
#include "base/digest.hpp"
#include "cni/json_fields.hpp"
#include "plugins/bandwidth/bandwidth.hpp"

namespace tether::bandwidth {

using nlohmann::json;

namespace {

constexpr const char* kKeys[] = {"ingressRate", "ingressBurst",  "egressRate",
                                 "egressBurst", "shapedSubnets", "unshapedSubnets"};

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

// shapedSubnets / unshapedSubnets of `obj`: arrays of CIDR strings, at most one non-empty.
Status subnets(const json& obj, const std::string& prefix, Limits& l) {
    std::vector<net::IpPrefix> shaped, unshaped;
    for (auto [key, out] : {std::pair{"shapedSubnets", &shaped}, {"unshapedSubnets", &unshaped}}) {
        const json* v = cni::fields::get(obj, key);
        if (!v || v->is_null()) continue;
        std::string where = cni::fields::join(prefix, key);
        if (!v->is_array()) return cni::fields::typeError(where, "an array of CIDR strings");
        for (const auto& e : *v) {
            if (!e.is_string()) return cni::fields::typeError(where, "an array of CIDR strings");
            auto p = net::IpPrefix::parse(e.get<std::string>());
            if (!p)
                return fail(Code::InvalidConfig, "bad subnet \"" + e.get<std::string>() +
                                                     "\" provided in " + where +
                                                     ": not an address/prefix-length CIDR");
            out->push_back(p->masked());
        }
    }
    if (!shaped.empty() && !unshaped.empty())
        return fail(Code::InvalidConfig, "unshapedSubnets and shapedSubnets cannot be both "
                                         "specified, one of them should be discarded");
    l.subnetsShaped = !shaped.empty();
    l.subnets = l.subnetsShaped ? std::move(shaped) : std::move(unshaped);
    return {};
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
    Limits l;
    l.ingressRate = TRY(unsignedField(*src, "ingressRate", prefix));
    l.ingressBurst = TRY(unsignedField(*src, "ingressBurst", prefix));
    l.egressRate = TRY(unsignedField(*src, "egressRate", prefix));
    l.egressBurst = TRY(unsignedField(*src, "egressBurst", prefix));
    TRY(checkPair("ingress", l.ingressRate, l.ingressBurst));
    TRY(checkPair("egress", l.egressRate, l.egressBurst));
    TRY(subnets(*src, prefix, l));
    return l;
}

std::string ifbName(const std::string& network, const std::string& containerId) {
    return "bwp" + sha512Hex(network + containerId).substr(0, 12);
}

std::string ownerAlias(const std::string& network, const std::string& containerId) {
    return "tether-bandwidth:" + network + ":" + containerId;
}

} // namespace tether::bandwidth
