// loopback: brings up lo in the container's network namespace.
#include "cni/skel.hpp"
#include "plugins/loopback/loopback.hpp"

int main() {
    return tether::cni::pluginMain(tether::loopback::pluginFuncs(),
                                   {.about = "tether loopback plugin"});
}
