#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ipam/dir_file.hpp"
#include "ipam/disk_store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::ipam;
using tether::net::IpAddress;
namespace fs = std::filesystem;

namespace {

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const fs::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary) << content;
}

std::unique_ptr<DiskStore> openStore(const test::TempDir& tmp, const std::string& net = "net1") {
    auto s = DiskStore::open({.dataDir = tmp.path().string(), .network = net});
    REQUIRE(s);
    return std::move(*s);
}

unsigned modeOf(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

const Owner kOwner{"c1", "eth0"};

} // namespace

TEST_CASE("reservation files use the reference format and modes") {
    test::TempDir tmp;
    auto store = openStore(tmp);
    REQUIRE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    REQUIRE(*store->reserve(kOwner, ip("fd00::2"), 1));
    const fs::path dir = tmp.path() / "net1";
    CHECK(modeOf(dir) == 0755);
    CHECK(slurp(dir / "10.0.0.2") == "c1\r\neth0");
    CHECK(modeOf(dir / "10.0.0.2") == 0600);
    CHECK(slurp(dir / "fd00::2") == "c1\r\neth0");
    CHECK(slurp(dir / "last_reserved_ip.0") == "10.0.0.2");
    CHECK(slurp(dir / "last_reserved_ip.1") == "fd00::2");
    CHECK(fs::exists(dir / "lock"));
    CHECK(store->lastReserved(0) == ip("10.0.0.2"));
    CHECK_FALSE(store->lastReserved(7));
    // Nothing but the final files: no temporaries left behind.
    for (auto& e : fs::directory_iterator(dir))
        CHECK(e.path().filename().string().rfind(".tmp", 0) != 0);
}

TEST_CASE("a reservation is exclusive") {
    test::TempDir tmp;
    auto store = openStore(tmp);
    REQUIRE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    auto again = store->reserve(Owner{"c2", "eth0"}, ip("10.0.0.2"), 0);
    REQUIRE(again);
    CHECK_FALSE(*again);
    CHECK(slurp(tmp.path() / "net1" / "10.0.0.2") == "c1\r\neth0");
}

TEST_CASE("release by owner is idempotent and leaves other owners alone") {
    test::TempDir tmp;
    auto store = openStore(tmp);
    REQUIRE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    REQUIRE(*store->reserve(kOwner, ip("fd00::2"), 1));
    REQUIRE(*store->reserve(Owner{"c1", "eth1"}, ip("10.0.0.3"), 0));
    CHECK(*store->releaseOwner(kOwner) == 2);
    CHECK(*store->releaseOwner(kOwner) == 0);
    const fs::path dir = tmp.path() / "net1";
    CHECK_FALSE(fs::exists(dir / "10.0.0.2"));
    CHECK_FALSE(fs::exists(dir / "fd00::2"));
    CHECK(fs::exists(dir / "10.0.0.3"));
    CHECK(store->findByOwner(kOwner, Lookup::Indexed)->empty());
    CHECK(store->findByOwner(Owner{"c1", "eth1"}, Lookup::Indexed)->size() == 1);
}

TEST_CASE("reservations without an index (written by the reference) are found by scanning") {
    test::TempDir tmp;
    const fs::path dir = tmp.path() / "net1";
    fs::create_directories(dir);
    spit(dir / "10.0.0.5", "c9\r\neth0");
    spit(dir / "10.0.0.6", "other\r\neth0");
    auto store = openStore(tmp);
    CHECK(store->findByOwner(Owner{"c9", "eth0"}, Lookup::Indexed)->empty());
    auto found = store->findByOwner(Owner{"c9", "eth0"}, Lookup::Thorough);
    REQUIRE(found);
    REQUIRE(found->size() == 1);
    CHECK(found->front() == ip("10.0.0.5"));
    CHECK(*store->releaseOwner(Owner{"c9", "eth0"}) == 1);
    CHECK_FALSE(fs::exists(dir / "10.0.0.5"));
    CHECK(fs::exists(dir / "10.0.0.6"));
}

TEST_CASE("legacy content (container ID only) belongs to every ifname of the container") {
    test::TempDir tmp;
    const fs::path dir = tmp.path() / "net1";
    fs::create_directories(dir);
    spit(dir / "10.0.0.5", "c9\n");
    auto store = openStore(tmp);
    CHECK(DiskStore::parseLeaseContent("c9\n") == Owner{"c9", ""});
    CHECK(DiskStore::parseLeaseContent(" c9\r\neth0 ") == Owner{"c9", "eth0"});
    CHECK(store->findByOwner(Owner{"c9", "eth3"}, Lookup::Thorough)->size() == 1);
    CHECK(*store->releaseOwner(Owner{"c9", "eth3"}) == 1);
    CHECK_FALSE(fs::exists(dir / "10.0.0.5"));
}

TEST_CASE("a stale index (reservation released by another implementation) is ignored") {
    test::TempDir tmp;
    auto store = openStore(tmp);
    REQUIRE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    const fs::path dir = tmp.path() / "net1";
    fs::remove(dir / "10.0.0.2");         // the reference released it...
    spit(dir / "10.0.0.2", "c2\r\neth0"); // ...and gave the address to someone else
    CHECK(store->findByOwner(kOwner, Lookup::Thorough)->empty());
    CHECK(*store->releaseOwner(kOwner) == 0);
    CHECK(slurp(dir / "10.0.0.2") == "c2\r\neth0");
}

TEST_CASE("symlinks planted in the store are never followed") {
    test::TempDir tmp;
    const fs::path dir = tmp.path() / "net1";
    fs::create_directories(dir);
    const fs::path victim = tmp.path() / "victim";
    spit(victim, "precious");
    fs::create_symlink(victim, dir / "10.0.0.2");
    fs::create_symlink(victim, dir / "last_reserved_ip.0");
    auto store = openStore(tmp);
    // The symlinked lease counts as taken and is not written through.
    CHECK_FALSE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    REQUIRE(*store->reserve(kOwner, ip("10.0.0.3"), 0));
    CHECK(slurp(victim) == "precious");
    // last_reserved_ip was replaced (the link itself), not written through.
    CHECK_FALSE(fs::is_symlink(dir / "last_reserved_ip.0"));
    CHECK(slurp(dir / "last_reserved_ip.0") == "10.0.0.3");
    // A symlink lease is not read as a reservation of anyone.
    CHECK(store->findByOwner(Owner{"precious", ""}, Lookup::Thorough)->empty());
}

TEST_CASE("a network directory that is a symlink is refused") {
    test::TempDir tmp;
    fs::create_directories(tmp.path() / "elsewhere");
    fs::create_directory_symlink(tmp.path() / "elsewhere", tmp.path() / "net1");
    auto s = DiskStore::open({.dataDir = tmp.path().string(), .network = "net1"});
    REQUIRE_FALSE(s);
    CHECK(s.error().msg.find("symlink") != std::string::npos);
}

TEST_CASE("network names that could escape the data dir are refused") {
    test::TempDir tmp;
    for (std::string bad : {"../x", "a/b", ".hidden", "", "a b"}) {
        auto s = DiskStore::open({.dataDir = tmp.path().string(), .network = bad});
        REQUIRE_FALSE(s);
        CHECK(s.error().code == Code::InvalidConfig);
    }
    CHECK(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator{}) == 0);
}

TEST_CASE("opening without create reports a missing directory as ENOENT") {
    test::TempDir tmp;
    auto s = DiskStore::open({.dataDir = tmp.path().string(), .network = "nope", .create = false});
    REQUIRE_FALSE(s);
    CHECK(s.error().errnum == ENOENT);
    CHECK_FALSE(fs::exists(tmp.path() / "nope"));
}

TEST_CASE("leases lists every reservation with its owner, unreadable ones with none") {
    test::TempDir tmp;
    auto store = openStore(tmp);
    REQUIRE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    spit(tmp.path() / "net1" / "10.0.0.9", "");
    auto all = store->leases();
    REQUIRE(all);
    REQUIRE(all->size() == 2);
    for (auto& l : *all) {
        if (l.ip == ip("10.0.0.2"))
            CHECK(l.owner == kOwner);
        else
            CHECK(l.owner.containerId.empty());
    }
    CHECK(store->reservedAddresses()->size() == 2);
    CHECK(*store->forceRelease(ip("10.0.0.9")));
    CHECK_FALSE(*store->forceRelease(ip("10.0.0.9")));
}

TEST_CASE("pruneIndex drops index entries whose reservations are gone") {
    test::TempDir tmp;
    auto store = openStore(tmp);
    REQUIRE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    REQUIRE(*store->reserve(Owner{"c2", "eth0"}, ip("10.0.0.3"), 0));
    fs::remove(tmp.path() / "net1" / "10.0.0.2");
    CHECK(*store->pruneIndex() == 1);
    CHECK(*store->pruneIndex() == 0);
    store.reset(); // one store (and its lock) at a time
    auto fresh = openStore(tmp, "net1");
    CHECK(fresh->findByOwner(Owner{"c2", "eth0"}, Lookup::Indexed)->size() == 1);
}

TEST_CASE("ADD and DEL change the owner index in place: no file is created or removed") {
    test::TempDir tmp;
    const fs::path dir = tmp.path() / "net1";
    {
        auto store = openStore(tmp);
        REQUIRE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    }
    struct stat before {};
    REQUIRE(::stat((dir / "tether.owners").c_str(), &before) == 0);
    for (int i = 3; i < 40; ++i) {
        auto store = openStore(tmp);
        Owner o{"c" + std::to_string(i), "eth0"};
        REQUIRE(*store->reserve(o, ip(("10.0.0." + std::to_string(i)).c_str()), 0));
        if (i % 2 == 0) CHECK(*store->releaseOwner(o) == 1);
    }
    struct stat after {};
    REQUIRE(::stat((dir / "tether.owners").c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);
    auto store = openStore(tmp);
    CHECK(store->findByOwner(Owner{"c5", "eth0"}, Lookup::Indexed)->front() == ip("10.0.0.5"));
    CHECK(store->findByOwner(Owner{"c6", "eth0"}, Lookup::Indexed)->empty());
}

TEST_CASE("reservations present when the index is first made are indexed") {
    test::TempDir tmp;
    const fs::path dir = tmp.path() / "net1";
    fs::create_directories(dir / "tether.index");
    spit(dir / "10.0.0.5", "c9\r\neth0");
    spit(dir / "tether.index" / "c9:eth0", "tether-ipam-index 1\n10.0.0.5\n");
    auto store = openStore(tmp);
    REQUIRE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    CHECK(store->findByOwner(Owner{"c9", "eth0"}, Lookup::Indexed)->size() == 1);
    CHECK_FALSE(fs::exists(dir / "tether.index")); // an earlier version's index is gone
}

TEST_CASE("a damaged owner index is ignored: lookups scan, the next ADD rebuilds it") {
    test::TempDir tmp;
    const fs::path dir = tmp.path() / "net1";
    {
        auto store = openStore(tmp);
        REQUIRE(*store->reserve(kOwner, ip("10.0.0.2"), 0));
    }
    spit(dir / "tether.owners", "garbage");
    auto store = openStore(tmp);
    CHECK(store->findByOwner(kOwner, Lookup::Indexed)->empty());
    CHECK(store->findByOwner(kOwner, Lookup::Thorough)->size() == 1);
    REQUIRE(*store->reserve(Owner{"c2", "eth0"}, ip("10.0.0.3"), 0));
    store.reset();
    auto again = openStore(tmp);
    CHECK(again->findByOwner(kOwner, Lookup::Indexed)->size() == 1);
    CHECK(*again->releaseOwner(kOwner) == 1);
    CHECK_FALSE(fs::exists(dir / "10.0.0.2"));
}

TEST_CASE("writeFileAt places whole files and refuses taken names exclusively") {
    test::TempDir tmp;
    auto dir = openDirectory(AT_FDCWD, tmp.path().string(), 0700);
    REQUIRE(dir);
    CHECK(*writeFileAt(dir->get(), "a", "one", {Place::Exclusive, 0600, true}));
    CHECK_FALSE(*writeFileAt(dir->get(), "a", "two", {Place::Exclusive, 0600, true}));
    CHECK(slurp(tmp.path() / "a") == "one");
    CHECK(*writeFileAt(dir->get(), "a", "three", {Place::Replace, 0600, false}));
    CHECK(slurp(tmp.path() / "a") == "three");
    CHECK(*unlinkAt(dir->get(), "a"));
    CHECK_FALSE(*unlinkAt(dir->get(), "a"));
    CHECK(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator{}) == 0);
}

TEST_CASE("lease files prepared before the lock are linked once, then written as before") {
    test::TempDir tmp;
    const fs::path dir = tmp.path() / "net1";
    {
        // The network directory does not exist yet: open creates it, then prepares the files.
        auto s = DiskStore::open({.dataDir = tmp.path().string(),
                                  .network = "net1",
                                  .prepareFor = &kOwner,
                                  .prepareLeases = 2});
        REQUIRE(s);
        auto& store = *s;
        spit(dir / "10.0.0.2", "other\r\neth0");
        CHECK_FALSE(*store->reserve(kOwner, ip("10.0.0.2"), 0)); // taken: nothing consumed
        REQUIRE(*store->reserve(kOwner, ip("10.0.0.3"), 0));     // prepared file 1
        // Another owner's reservation never takes this owner's prepared content.
        REQUIRE(*store->reserve(Owner{"c2", "eth1"}, ip("10.0.0.4"), 0));
        REQUIRE(*store->reserve(kOwner, ip("fd00::3"), 1)); // prepared file 2
        // None left: written the usual way.
        REQUIRE(*store->reserve(kOwner, ip("10.0.0.5"), 0));
    }
    CHECK(slurp(dir / "10.0.0.2") == "other\r\neth0");
    for (const char* name : {"10.0.0.3", "fd00::3", "10.0.0.5"}) {
        CHECK(slurp(dir / name) == "c1\r\neth0");
        CHECK(modeOf(dir / name) == 0600);
        CHECK(fs::hard_link_count(dir / name) == 1); // a prepared inode is linked once
    }
    CHECK(slurp(dir / "10.0.0.4") == "c2\r\neth1");
    // Nothing else appeared: no temporary file left behind.
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        (void)e;
        ++files;
    }
    CHECK(files == 5 + 2 + 1 + 1); // 5 leases, last_reserved_ip.0/.1, lock, tether.owners
}
