// The network both NAT suites attach containers to: bridge (ipMasq, default gateway) with
// host-local, then portmap, a test::ConflistNet (written as a conflist into a private config dir
// and resolved through the runtime as a user's `tether net add` would); runPlugin() runs one
// plugin by hand as this network's, setBackend() switches the NAT backend between calls.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "tests/support/conflist_net.hpp"

namespace tether::test {

struct NatNetOptions {
    std::string name;                   ///< network name
    std::string bridge;                 ///< bridge device
    std::string subnet;                 ///< host-local subnet
    std::optional<std::string> backend; ///< ipMasqBackend (bridge) and backend (portmap)
    bool snat = true;                   ///< portmap snat
};

/// The network; its dirs are removed with it.
struct NatNet : ConflistNet {
    NatNetOptions opts;

    explicit NatNet(NatNetOptions o) : ConflistNet(o.name), opts(std::move(o)) { writeList(); }
    /// Rewrites the config with another NAT backend (between ADD and DEL, say).
    void setBackend(const std::string& backend) {
        opts.backend = backend;
        writeList();
    }

  private:
    void writeList() {
        nlohmann::json bridge = masqBridge(opts.bridge, nlohmann::json{{"subnet", opts.subnet}});
        nlohmann::json portmap = {
            {"type", "portmap"}, {"snat", opts.snat}, {"capabilities", {{"portMappings", true}}}};
        if (opts.backend) {
            bridge["ipMasqBackend"] = *opts.backend;
            portmap["backend"] = *opts.backend;
        }
        write(nlohmann::json::array({bridge, portmap}));
    }
};

} // namespace tether::test
