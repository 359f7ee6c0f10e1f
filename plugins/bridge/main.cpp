// bridge: connects a container to a host bridge through a veth pair.
#include "plugins/bridge/bridge.hpp"

int main() {
    return tether::cni::pluginMain(tether::bridge::pluginFuncs(),
                                   {.about = "tether bridge plugin"});
}
