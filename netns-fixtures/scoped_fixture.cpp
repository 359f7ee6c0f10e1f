#include "netns-fixtures/scoped_fixture.hpp"

#include <stdexcept>

namespace tether::fixture {

namespace {

template <class T> T orThrow(Expected<T> v) {
    if (!v) throw std::runtime_error(v.error().text());
    return std::move(*v);
}

} // namespace

ScopedFixture::ScopedFixture(const std::string& topologyFile, const Options& options)
    : fx_(orThrow(Fixture::up(orThrow(Topology::load(topologyFile)), options))) {}

ScopedFixture::ScopedFixture(const Topology& topology, const Options& options)
    : fx_(orThrow(Fixture::up(topology, options))) {}

ExecResult ScopedFixture::run(std::string_view node, const std::vector<std::string>& argv,
                              int timeoutSec) const {
    return orThrow(fx_.run(node, argv, timeoutSec));
}

net::IpAddress ScopedFixture::address(std::string_view node, std::string_view ifname,
                                      net::Family family) const {
    return orThrow(fx_.address(node, ifname, family));
}

std::string ScopedFixture::netnsPath(std::string_view node) const {
    return orThrow(fx_.netnsPath(node));
}

} // namespace tether::fixture
