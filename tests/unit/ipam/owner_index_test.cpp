#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ipam/owner_index.hpp"
#include "ipam/unique_fd.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::ipam;
using tether::net::IpAddress;
namespace fs = std::filesystem;

namespace {

IpAddress nth(uint32_t i) {
    return IpAddress::v4(0x0a000000u + i);
}

UniqueFd openDir(const test::TempDir& tmp) {
    UniqueFd fd(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(fd);
    return fd;
}

} // namespace

TEST_CASE("owner index: find, add, remove, and only the owner's key answers") {
    test::TempDir tmp;
    UniqueFd dir = openDir(tmp);
    CHECK_FALSE(*OwnerIndex::open(dir.get()));
    auto idx = OwnerIndex::create(dir.get(), {});
    REQUIRE(idx);
    const Owner a{"ctr-a", "eth0"}, b{"ctr-a", "eth1"};
    REQUIRE(idx->add(a, nth(2)));
    REQUIRE(idx->add(a, *IpAddress::parse("fd00::2")));
    REQUIRE(idx->add(a, nth(2))); // recorded once
    REQUIRE(idx->add(b, nth(3)));
    CHECK(idx->size() == 3);
    auto found = *idx->find(a);
    std::sort(found.begin(), found.end());
    CHECK(found == std::vector<IpAddress>{nth(2), *IpAddress::parse("fd00::2")});
    CHECK(*idx->find(b) == std::vector<IpAddress>{nth(3)});
    CHECK(idx->find(Owner{"ctr-a", ""})->empty()); // legacy owners are never indexed
    CHECK(*idx->remove(a, nth(2)));
    CHECK_FALSE(*idx->remove(a, nth(2)));
    CHECK(*idx->find(a) == std::vector<IpAddress>{*IpAddress::parse("fd00::2")});

    // Another process sees the same table.
    auto other = OwnerIndex::open(dir.get());
    REQUIRE(*other);
    CHECK((*other)->size() == 2);
    CHECK(*(*other)->find(b) == std::vector<IpAddress>{nth(3)});
}

TEST_CASE("owner index grows past three quarters full and keeps every entry") {
    test::TempDir tmp;
    UniqueFd dir = openDir(tmp);
    auto idx = OwnerIndex::create(dir.get(), {});
    REQUIRE(idx);
    const fs::path file = tmp.path() / "tether.owners";
    const auto initial = fs::file_size(file);
    for (uint32_t i = 0; i < 5000; ++i)
        REQUIRE(idx->add(Owner{"c" + std::to_string(i), "eth0"}, nth(i)));
    CHECK(fs::file_size(file) > initial);
    CHECK(idx->size() == 5000);
    for (uint32_t i = 0; i < 5000; i += 7)
        CHECK(*idx->find(Owner{"c" + std::to_string(i), "eth0"}) == std::vector<IpAddress>{nth(i)});
}

TEST_CASE("owner index: churn reuses deleted slots, then rehashes without growing") {
    test::TempDir tmp;
    UniqueFd dir = openDir(tmp);
    auto idx = OwnerIndex::create(dir.get(), {});
    REQUIRE(idx);
    const fs::path file = tmp.path() / "tether.owners";
    const auto initial = fs::file_size(file);
    for (uint32_t i = 0; i < 20000; ++i) {
        Owner o{"c" + std::to_string(i), "eth0"};
        REQUIRE(idx->add(o, nth(i)));
        if (i >= 100)
            REQUIRE(*idx->remove(Owner{"c" + std::to_string(i - 100), "eth0"}, nth(i - 100)));
    }
    CHECK(idx->size() == 100);
    CHECK(fs::file_size(file) == initial);
    CHECK(*idx->find(Owner{"c19999", "eth0"}) == std::vector<IpAddress>{nth(19999)});
    CHECK(idx->find(Owner{"c19899", "eth0"})->empty());
}

TEST_CASE("owner index: what is not our table is not read as one") {
    test::TempDir tmp;
    UniqueFd dir = openDir(tmp);
    const fs::path file = tmp.path() / "tether.owners";
    std::ofstream(file) << "tether-owners\nbut not really";
    CHECK_FALSE(*OwnerIndex::open(dir.get()));
    fs::remove(file);
    fs::create_symlink("/etc/passwd", file);
    CHECK_FALSE(*OwnerIndex::open(dir.get()));
    fs::remove(file);
    auto idx = OwnerIndex::create(dir.get(), {{nth(9), Owner{"c9", "eth0"}}});
    REQUIRE(idx);
    fs::resize_file(file, fs::file_size(file) - 32); // truncated: slots missing
    CHECK_FALSE(*OwnerIndex::open(dir.get()));
}
