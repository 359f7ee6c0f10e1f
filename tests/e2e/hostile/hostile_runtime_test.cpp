// `tether net` against hostile files in its config and cache dirs: a conflist built to crash the
// parser, a FIFO among the cached results, a results dir that is a symlink elsewhere.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/scratch_netns.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether::test;
namespace fs = std::filesystem;

namespace {

struct NetDirs {
    TempDir conf;
    TempDir cache;
    ExecResult tether(std::vector<std::string> args) const {
        std::vector<std::string> argv = {"env",
                                         "NETCONFPATH=" + conf.path().string(),
                                         "CNI_CACHE_DIR=" + cache.path().string(),
                                         "CNI_PATH=" + binDir(),
                                         binDir() + "/tether",
                                         "net"};
        argv.insert(argv.end(), args.begin(), args.end());
        return execHere(argv, 20);
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(conf.path() / name) << text;
    }
};

const char* kLoopbackList = R"({"cniVersion":"1.1.0","name":"lo","plugins":[{"type":"loopback"}]})";

unsigned modeOf(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

} // namespace

TEST_CASE("tether net add on a conflist nested 150,000 deep names the file and the depth") {
    NetDirs d;
    d.write("deep.conflist",
            R"({"cniVersion":"1.0.0","name":"deep","plugins":[{"type":"bridge","x":)" +
                std::string(150000, '[') + std::string(150000, ']') + "}]}");
    ScratchNetns ns;
    auto r = d.tether({"add", "deep", ns.path(), "--json"});
    INFO(r.out << r.err);
    CHECK(r.exitCode == 1);
    auto j = r.json();
    CHECK(j.at("code") == 7);
    CHECK(j.at("details").get<std::string>().find("deep.conflist: exceeded max depth") !=
          std::string::npos);
    CHECK(d.tether({"ls", "--json"}).json().at("problems").dump().find("exceeded max depth") !=
          std::string::npos);
}

TEST_CASE("a FIFO among the cached results is skipped by gc and ls, never opened to block") {
    NetDirs d;
    d.write("lo.conflist", kLoopbackList);
    ScratchNetns ns;
    auto add = d.tether({"add", "lo", ns.path(), "--id", "c1"});
    INFO(add.out << add.err);
    REQUIRE(add.exitCode == 0);
    REQUIRE(::mkfifo((d.cache.path() / "results" / "lo-fifo-eth0").c_str(), 0600) == 0);
    auto ls = d.tether({"ls", "--json"});
    INFO(ls.out << ls.err);
    REQUIRE(ls.exitCode == 0);
    CHECK(ls.json().at("attachments").size() == 1);
    auto gc = d.tether({"gc", "lo"});
    INFO(gc.out << gc.err);
    CHECK(gc.exitCode == 0);
    CHECK(d.tether({"del", "lo", ns.path(), "--id", "c1"}).exitCode == 0);
    CHECK(!fs::exists(d.cache.path() / "results" / "lo-c1-eth0"));
}

TEST_CASE("a results dir that is a symlink is neither written through nor chmod-ed") {
    NetDirs d;
    d.write("lo.conflist", kLoopbackList);
    TempDir elsewhere;
    REQUIRE(::chmod(elsewhere.path().c_str(), 0755) == 0);
    fs::create_symlink(elsewhere.path(), d.cache.path() / "results");
    ScratchNetns ns;
    auto add = d.tether({"add", "lo", ns.path(), "--id", "c1", "--json"});
    INFO(add.out << add.err);
    CHECK(add.exitCode != 0);
    CHECK(add.out.find("cache") != std::string::npos);
    CHECK(d.tether({"gc", "lo"}).exitCode == 0);
    CHECK(modeOf(elsewhere.path()) == 0755);
    CHECK(fs::is_empty(elsewhere.path()));
}
