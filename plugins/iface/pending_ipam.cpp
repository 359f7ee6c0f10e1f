#include "plugins/iface/pending_ipam.hpp"

#include "cni/builtin.hpp"
#include "cni/invoke.hpp"
#include "libnet/latency.hpp"

namespace tether::plugin {

PendingIpamAdd::PendingIpamAdd(const cni::CmdArgs& args) : args_(args) {
    auto run = [this] {
        result_.emplace(
            cni::delegateAdd(args_.conf.ipamType, args_.stdinData, args_.conf.cniVersion));
    };
    // TETHER_IPAM_OVERLAP=0: IPAM runs here, before the caller creates any link.
    if (net::latencyEnabled(net::Latency::IpamOverlap))
        thread_ = std::thread(run);
    else
        run();
}

Status PendingIpamAdd::validate(const cni::CmdArgs& args) {
    return cni::validateBuiltinDelegate(args.conf.ipamType, args);
}

PendingIpamAdd::~PendingIpamAdd() {
    if (thread_.joinable()) thread_.join();
    if (!taken_ && result_ && result_->has_value())
        (void)cni::delegateDel(args_.conf.ipamType, args_.stdinData);
}

Expected<cni::Result> PendingIpamAdd::take() {
    if (thread_.joinable()) thread_.join();
    taken_ = true;
    if (!result_) return fail(Code::Internal, "IPAM ADD did not run");
    return std::move(*result_);
}

} // namespace tether::plugin
