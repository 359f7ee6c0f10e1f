// portmap: forwards host ports to a container (chained after bridge/veth).
#include "plugins/portmap/portmap.hpp"

int main() {
    return tether::cni::pluginMain(tether::portmap::pluginFuncs(),
                                   {.about = "tether portmap plugin"});
}
