#include "tests/support/scratch_netns.hpp"

#include <catch2/catch.hpp>

#include "libnet/link.hpp"
#include "netns-fixtures/fixture.hpp"

namespace tether::test {

namespace {

net::Netns mustCreate(const std::string& path) {
    auto ns = net::createPinnedNetns(path);
    if (!ns) FAIL("create scratch netns " << path << ": " << ns.error().text());
    return std::move(*ns);
}

net::NetlinkSocket mustOpen(const net::Netns& ns) {
    auto sock = net::NetlinkSocket::openIn(ns);
    if (!sock) FAIL("netlink socket in " << ns.path() << ": " << sock.error().text());
    return std::move(*sock);
}

ExecResult toTestResult(Expected<fixture::ExecResult> r, const std::vector<std::string>& argv) {
    if (!r) FAIL("exec " << (argv.empty() ? "" : argv[0]) << ": " << r.error().text());
    return {.exitCode = r->exitCode, .out = std::move(r->out), .err = std::move(r->err)};
}

} // namespace

nlohmann::json ExecResult::json() const {
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (j.is_discarded()) FAIL("command output is not JSON: " << out << " / " << err);
    return j;
}

ExecResult execHere(const std::vector<std::string>& argv, int timeoutSec) {
    return toTestResult(fixture::execHere(argv, timeoutSec), argv);
}

ExecResult execIn(const net::Netns& ns, const std::vector<std::string>& argv, int timeoutSec) {
    return toTestResult(fixture::execIn(ns, argv, timeoutSec), argv);
}

ScratchNetns::ScratchNetns() : path_(dir_ / "netns"), ns_(mustCreate(path_)), nl_(mustOpen(ns_)) {
    auto lo = net::getLink(nl_, "lo");
    if (!lo) FAIL("scratch netns: " << lo.error().text());
    if (auto st = net::setLinkUp(nl_, lo->index, true); !st)
        FAIL("scratch netns lo up: " << st.error().text());
}

ScratchNetns::~ScratchNetns() {
    // The socket and fd keep the namespace alive; the pin goes first so the namespace dies with
    // the last handle.
    (void)net::removePinnedNetns(path_);
}

void ScratchNetns::failIfNotEntered(const net::NetnsGuard& guard) {
    if (!guard.ok()) FAIL("enter scratch netns: " << guard.error().text());
}

} // namespace tether::test
