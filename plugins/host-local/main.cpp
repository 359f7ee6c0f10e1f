// host-local: IP address management from local ranges, files compatible with the reference.
#include "cni/skel.hpp"
#include "plugins/host-local/host_local.hpp"

int main() {
    return tether::cni::pluginMain(tether::hostlocal::pluginFuncs(),
                                   {.about = "tether host-local IPAM plugin"});
}
