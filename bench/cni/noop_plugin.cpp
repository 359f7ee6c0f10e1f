// A CNI plugin that does nothing: echoes prevResult (or an empty result) on ADD, succeeds on
// everything else. Used to measure the benchmark driver's own cost of exec'ing a plugin.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main() {
    const char* cmd = std::getenv("CNI_COMMAND");
    std::string in;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        in.append(buf, n);
    if (cmd && std::strcmp(cmd, "ADD") == 0) std::fputs("{\"cniVersion\":\"1.0.0\"}", stdout);
    if (cmd && std::strcmp(cmd, "VERSION") == 0)
        std::fputs("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\"]}", stdout);
    return 0;
}
