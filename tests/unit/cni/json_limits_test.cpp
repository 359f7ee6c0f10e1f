// Bounds on untrusted JSON text and on untrusted files: what a fuzzer or an attacker sends.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "base/file.hpp"
#include "cni/config.hpp"
#include "cni/json_limits.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tether;
using namespace tether::cni;

namespace {

std::string nested(int depth) {
    return R"({"cniVersion":"1.0.0","name":"n","type":"t","x":)" + std::string(depth, '[') +
           std::string(depth, ']') + "}";
}

} // namespace

TEST_CASE("a config nested beyond the depth limit is refused, not parsed") {
    auto deep = parseNetConf(nested(150000));
    REQUIRE_FALSE(deep);
    CHECK(deep.error().code == Code::DecodeFailure);
    CHECK_THAT(deep.error().msg, Catch::Contains("exceeded max depth"));
    // The limit counts the config object itself: kMaxJsonDepth - 1 nested arrays fit.
    CHECK(parseNetConf(nested(kMaxJsonDepth - 1)));
    CHECK_FALSE(parseNetConf(nested(kMaxJsonDepth)));
}

TEST_CASE("brackets inside strings do not count as nesting") {
    std::string s = R"({"cniVersion":"1.0.0","name":"n","type":"t","x":")" +
                    std::string(5000, '[') + R"(\"]"})";
    CHECK(parseNetConf(s));
}

TEST_CASE("a byte order mark, a raw NUL and an escaped NUL are refused") {
    std::string ok = R"({"cniVersion":"1.0.0","name":"n","type":"t"})";
    auto bom = parseNetConf("\xEF\xBB\xBF" + ok);
    REQUIRE_FALSE(bom);
    CHECK_THAT(bom.error().msg, Catch::Contains("byte order mark"));
    auto trailingNul = parseNetConf(ok + std::string(1, '\0'));
    REQUIRE_FALSE(trailingNul);
    CHECK_THAT(trailingNul.error().msg, Catch::Contains("NUL byte"));
    auto escaped = parseNetConf(
        R"({"cniVersion":"1.0.0","name":"n","type":"t","ipam":{"dataDir":"/tmp\u0000x"}})");
    REQUIRE_FALSE(escaped);
    CHECK_THAT(escaped.error().msg, Catch::Contains("NUL character"));
    // An escaped backslash followed by "u0000" is text, not a NUL.
    CHECK(checkJsonText(R"({"a":"\\u0000"})", "t"));
}

TEST_CASE("readRegularFile refuses FIFOs, directories, devices and oversized files") {
    test::TempDir dir;
    auto fifo = (dir.path() / "fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto r = readRegularFile(fifo, "read");
    REQUIRE_FALSE(r); // returns at once: a FIFO open must not block
    CHECK_THAT(r.error().msg, Catch::Contains("a FIFO"));

    auto d = readRegularFile(dir.path().string(), "read");
    REQUIRE_FALSE(d);
    CHECK_THAT(d.error().msg, Catch::Contains("a directory"));

    auto zero = readRegularFile("/dev/zero", "read");
    REQUIRE_FALSE(zero);
    CHECK_THAT(zero.error().msg, Catch::Contains("a character device"));

    auto big = (dir.path() / "big").string();
    std::ofstream(big) << std::string(2000, 'x');
    auto over = readRegularFile(big, "read", {.maxBytes = 1000});
    REQUIRE_FALSE(over);
    CHECK_THAT(over.error().msg, Catch::Contains("larger than 1000 bytes"));
    auto fits = readRegularFile(big, "read", {.maxBytes = 2000});
    REQUIRE(fits);
    CHECK(fits->value().size() == 2000);

    auto link = (dir.path() / "link").string();
    REQUIRE(::symlink(big.c_str(), link.c_str()) == 0);
    CHECK(readRegularFile(link, "read", {.maxBytes = 4000}));
    CHECK_FALSE(readRegularFile(link, "read", {.maxBytes = 4000, .followSymlinks = false}));

    auto missing = readRegularFile((dir.path() / "nope").string(), "read", {.missingOk = true});
    REQUIRE(missing);
    CHECK_FALSE(missing->has_value());
}
