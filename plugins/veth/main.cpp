// veth (also installed as ptp): a point-to-point link between the host and a container.
#include "plugins/veth/veth_plugin.hpp"

int main() {
    return tether::cni::pluginMain(tether::veth::pluginFuncs(),
                                   {.about = "tether veth (ptp) plugin"});
}
