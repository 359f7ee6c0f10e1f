// The dhcp IPAM plugin, and its daemon when run as `dhcp daemon [flags]`. A standalone
// executable rather than part of tether-cni: the daemon is a long-running, multi-threaded
// process holding raw sockets, and keeping it apart keeps that code out of the binary every
// other plugin invocation loads.
#include <string_view>

#include "cni/skel.hpp"
#include "plugins/dhcp/daemon.hpp"
#include "plugins/dhcp/dhcp_plugin.hpp"

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "daemon")
        return tether::dhcp::daemonMain(argc - 2, argv + 2);
    return tether::cni::pluginMain(tether::dhcp::pluginFuncs(),
                                   {.about = "tether dhcp IPAM plugin (run `dhcp daemon` first)"});
}
