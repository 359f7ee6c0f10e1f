// Raw nfnetlink set elements against the real kernel, checked with `nft list` as a user would:
// keys, map data and comments appear as nft prints them; a duplicate key aborts the whole
// transaction; get/list/delete find exactly the elements asked for.
#include <netinet/in.h>

#include <linux/netfilter.h>

#include <catch2/catch.hpp>

#include "libnet/nft.hpp"
#include "libnet/nft_set.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using net::ConcatBuilder;
using net::SetElem;

namespace {

constexpr const char* kTable = "tnft";

void createTable() {
    auto nft = net::Nft::open();
    REQUIRE(nft);
    REQUIRE(nft->run(R"(create table inet tnft
add set inet tnft s4 { type ipv4_addr; }
add set inet tnft span4 { type ipv4_addr . ipv4_addr; flags interval; }
add map inet tnft pm { type inet_proto . inet_service : ipv4_addr . inet_service; }
)",
                     "create test table"));
}

net::IpAddress ip(const char* s) {
    return *net::IpAddress::parse(s);
}

std::string list(const test::ScratchNetns& ns, const char* set, bool map = false) {
    return ns.exec({"nft", "list", map ? "map" : "set", "inet", kTable, set}).out;
}

} // namespace

TEST_CASE("set and map elements with comments, created, found and deleted atomically",
          "[libnet][nft]") {
    test::ScratchNetns ns;
    ns.run([&] {
        createTable();
        SetElem a{.set = "s4",
                  .key = ConcatBuilder().addr(ip("10.1.0.2")).bytes(),
                  .comment = "net/a/eth0"};
        SetElem span{.set = "span4",
                     .key = ConcatBuilder().addr(ip("10.1.0.2")).addr(ip("10.1.0.0")).bytes(),
                     .keyEnd =
                         ConcatBuilder().addr(ip("10.1.0.2")).addr(ip("10.1.255.255")).bytes(),
                     .comment = "net/a/eth0"};
        SetElem pm{.set = "pm",
                   .key = ConcatBuilder().proto(IPPROTO_TCP).port(8080).bytes(),
                   .data = ConcatBuilder().addr(ip("10.1.0.2")).port(80).bytes(),
                   .comment = "net/a/eth0"};
        REQUIRE(net::commitSetElements(NFPROTO_INET, kTable, {.create = {a, span, pm}}, "add a"));
        CHECK(list(ns, "s4").find("10.1.0.2 comment \"net/a/eth0\"") != std::string::npos);
        CHECK(list(ns, "span4").find("10.1.0.2 . 10.1.0.0/16 comment \"net/a/eth0\"") !=
              std::string::npos);
        CHECK(list(ns, "pm", true).find("tcp . 8080 comment \"net/a/eth0\" : 10.1.0.2 . 80") !=
              std::string::npos);

        // A second owner of tcp/8080 fails the whole transaction: its s4 element is not added.
        SetElem b{.set = "s4",
                  .key = ConcatBuilder().addr(ip("10.1.0.3")).bytes(),
                  .comment = "net/b/eth0"};
        SetElem pmB = pm;
        pmB.comment = "net/b/eth0";
        auto clash = net::commitSetElements(NFPROTO_INET, kTable, {.create = {b, pmB}}, "add b");
        REQUIRE_FALSE(clash);
        CHECK(clash.error().code == Code::Conflict);
        CHECK(clash.error().errnum == EEXIST);
        CHECK(clash.error().msg.find("set pm") != std::string::npos);
        CHECK(list(ns, "s4").find("10.1.0.3") == std::string::npos);
        // `add` of an element that exists with the same data is fine (idempotent ADD).
        REQUIRE(net::commitSetElements(NFPROTO_INET, kTable, {.add = {a}}, "add a again"));

        auto all = net::listSetElements(NFPROTO_INET, kTable, "pm");
        REQUIRE(all);
        REQUIRE(all->size() == 1);
        CHECK((*all)[0].comment == "net/a/eth0");
        CHECK((*all)[0].data == pm.data);

        auto got = net::getSetElements(NFPROTO_INET, kTable, {a, b, span});
        REQUIRE(got);
        REQUIRE(got->size() == 2); // b does not exist
        CHECK((*got)[0].comment == "net/a/eth0");
        CHECK((*got)[1].set == "span4");

        REQUIRE(net::commitSetElements(NFPROTO_INET, kTable, {.del = *got}, "delete a"));
        CHECK(list(ns, "s4").find("10.1.0.2") == std::string::npos);
        CHECK(list(ns, "span4").find("10.1.0.2") == std::string::npos);
        CHECK(list(ns, "pm", true).find("8080") != std::string::npos); // not asked for

        auto missing = net::listSetElements(NFPROTO_INET, kTable, "nope");
        REQUIRE_FALSE(missing);
        CHECK(missing.error().errnum == ENOENT);
    });
}
