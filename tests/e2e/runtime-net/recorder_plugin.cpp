// cni-recorder: a CNI plugin for tests. Appends {"command","env","stdin"} to
// <recordDir>/log.jsonl (recordDir from its config) and answers: ADD prints prevResult with an
// interface named after `label` appended (or a fresh result), other commands print nothing.
// `failOn: "ADD"` makes that command fail with CNI error code 7 naming the label.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

using nlohmann::json;

int main() {
    std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    json conf = json::parse(in, nullptr, false);
    const char* cmdEnv = std::getenv("CNI_COMMAND");
    std::string cmd = cmdEnv ? cmdEnv : "";
    if (cmd == "VERSION") {
        std::cout
            << R"({"cniVersion":"1.1.0","supportedVersions":["0.3.1","0.4.0","1.0.0","1.1.0"]})";
        return 0;
    }
    json env = json::object();
    for (const char* k :
         {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"})
        if (const char* v = std::getenv(k)) env[k] = v;
    std::string label = conf.is_object() ? conf.value("label", "?") : "?";
    if (conf.is_object() && conf.contains("recordDir"))
        std::ofstream(conf["recordDir"].get<std::string>() + "/log.jsonl", std::ios::app)
            << json{{"command", cmd}, {"label", label}, {"env", env}, {"stdin", conf}}.dump()
            << "\n";
    if (conf.is_object() && conf.value("failOn", "") == cmd) {
        std::cout << json{{"cniVersion", conf.value("cniVersion", "1.0.0")},
                          {"code", 7},
                          {"msg", "recorder " + label + " told to fail"}}
                         .dump();
        return 1;
    }
    if (cmd == "ADD") {
        json r = conf.contains("prevResult")
                     ? conf["prevResult"]
                     : json{{"cniVersion", conf.value("cniVersion", "1.0.0")}};
        r["interfaces"].push_back({{"name", label}});
        std::cout << r.dump();
    }
    return 0;
}
