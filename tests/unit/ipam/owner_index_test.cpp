#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/unique_fd.hpp"
#include "ipam/owner_index.hpp"
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

// An empty index in a fresh directory, and the size its file started with.
struct EmptyIndex {
    test::TempDir tmp;
    UniqueFd dir = openDir(tmp);
    OwnerIndex idx = *OwnerIndex::create(dir.get(), {});
    fs::path file = tmp.path() / "tether.owners";
    uintmax_t initialSize = fs::file_size(file);
};

Owner owner(uint32_t i) {
    return Owner{"c" + std::to_string(i), "eth0"};
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
    EmptyIndex t;
    for (uint32_t i = 0; i < 5000; ++i)
        REQUIRE(t.idx.add(owner(i), nth(i)));
    CHECK(fs::file_size(t.file) > t.initialSize);
    CHECK(t.idx.size() == 5000);
    for (uint32_t i = 0; i < 5000; i += 7)
        CHECK(*t.idx.find(owner(i)) == std::vector<IpAddress>{nth(i)});
}

TEST_CASE("owner index: churn reuses deleted slots, then rehashes without growing") {
    EmptyIndex t;
    for (uint32_t i = 0; i < 20000; ++i) {
        REQUIRE(t.idx.add(owner(i), nth(i)));
        if (i >= 100) REQUIRE(*t.idx.remove(owner(i - 100), nth(i - 100)));
    }
    CHECK(t.idx.size() == 100);
    CHECK(fs::file_size(t.file) == t.initialSize);
    CHECK(*t.idx.find(owner(19999)) == std::vector<IpAddress>{nth(19999)});
    CHECK(t.idx.find(owner(19899))->empty());
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
