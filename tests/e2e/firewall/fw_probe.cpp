#include "tests/e2e/firewall/fw_probe.hpp"

#include <sstream>

#include <catch2/catch.hpp>

#include "tests/e2e/nat/tcp_probe.hpp"
#include "tests/support/scratch_netns.hpp"

namespace tether::test {

bool reaches(const net::Netns& from, const net::Netns& to, const std::string& ip, int port) {
    auto peer = acceptOnce(to, port, 1500);
    bool connected = connectFrom(from, ip, port, 1000);
    bool accepted = !peer.get().empty();
    return connected && accepted;
}

std::string iptFilter() {
    return execHere({"iptables-save", "-t", "filter"}).out +
           execHere({"ip6tables-save", "-t", "filter"}).out;
}

std::string leftovers(const std::vector<std::string>& needles) {
    std::istringstream in(nftRuleset() + iptFilter());
    std::string out;
    for (std::string line; std::getline(in, line);)
        for (const auto& n : needles)
            if (line.find(n) != std::string::npos) {
                out += line + "\n";
                break;
            }
    return out;
}

void dropForward() {
    auto r = execHere({"iptables", "-P", "FORWARD", "DROP"});
    REQUIRE(r.exitCode == 0);
}

} // namespace tether::test
