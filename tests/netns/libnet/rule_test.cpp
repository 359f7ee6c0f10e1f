#include <catch2/catch.hpp>

#include "libnet/rule.hpp"
#include "tests/support/scratch_netns.hpp"

using namespace tether;
using namespace tether::net;

namespace {

// `ip -j rule show` entries with the given table.
std::vector<nlohmann::json> ipRules(test::ScratchNetns& ns, const std::string& family,
                                    const std::string& table) {
    auto r = ns.exec({"ip", "-j", family, "rule", "show", "table", table});
    REQUIRE(r.exitCode == 0);
    std::vector<nlohmann::json> out;
    if (r.out.find('[') == std::string::npos) return out;
    for (const auto& j : r.json())
        out.push_back(j);
    return out;
}

} // namespace

TEST_CASE("add, list and delete source rules", "[rule]") {
    test::ScratchNetns ns;
    Rule v4{Family::V4, IpPrefix::parse("10.40.0.5/32"), 100, 0};
    REQUIRE(addRule(ns.nl(), v4));
    auto shown = ipRules(ns, "-4", "100");
    REQUIRE(shown.size() == 1);
    CHECK(shown[0].at("src") == "10.40.0.5");
    CHECK(shown[0].at("table") == "100");

    auto dup = addRule(ns.nl(), v4);
    REQUIRE_FALSE(dup);
    CHECK(dup.error().code == Code::Conflict);

    Rule v6{Family::V6, IpPrefix::parse("fd00:40::5/128"), 101, 3000};
    REQUIRE(addRule(ns.nl(), v6));
    auto shown6 = ipRules(ns, "-6", "101");
    REQUIRE(shown6.size() == 1);
    CHECK(shown6[0].at("priority") == 3000);
    CHECK(shown6[0].at("src") == "fd00:40::5");

    auto list = listRules(ns.nl(), Family::V4);
    REQUIRE(list);
    int found = 0;
    for (const auto& r : *list)
        if (r.table == 100 && r.src && r.src->str() == "10.40.0.5/32") ++found;
    CHECK(found == 1);
    bool hasMain = false;
    for (const auto& r : *list)
        hasMain = hasMain || (r.table == 254 && !r.src);
    CHECK(hasMain);
    auto list6 = listRules(ns.nl(), Family::V6);
    REQUIRE(list6);
    bool has6 = false;
    for (const auto& r : *list6)
        has6 = has6 || (r.table == 101 && r.priority == 3000 && r.src->str() == "fd00:40::5/128");
    CHECK(has6);

    auto del = deleteRule(ns.nl(), v4);
    REQUIRE(del);
    CHECK(*del);
    CHECK(ipRules(ns, "-4", "100").empty());
    auto again = deleteRule(ns.nl(), v4);
    REQUIRE(again);
    CHECK_FALSE(*again);
    REQUIRE(deleteRule(ns.nl(), v6));
    CHECK(ipRules(ns, "-6", "101").empty());
}

TEST_CASE("a rule's source must match its family", "[rule]") {
    test::ScratchNetns ns;
    auto r = addRule(ns.nl(), {Family::V6, IpPrefix::parse("10.40.0.5/32"), 100, 0});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Code::InvalidConfig);
}
