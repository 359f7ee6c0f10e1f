// What the chain benchmark drivers (cni_bench: one operation at a time; storm: K in flight) set up
// the same way: their common command-line options, the network list read from a chain template,
// the containers' pinned network namespaces, and the call that runs the chain for container i.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "bench/cni/chain_runner.hpp"

namespace tether::bench {

/// The options both drivers take; each driver sets its own defaults for bridge, subnet and count.
struct ChainOptions {
    std::string chain;             ///< --chain: the list template (bench/cni/chains/*.json)
    std::string plugins;           ///< --plugins: CNI_PATH of the implementation under test
    std::string label = "plugins"; ///< --label: the row's name; its slug names IDs and paths
    std::string bridge;            ///< --bridge: replaces @BRIDGE@
    std::string subnet;            ///< --subnet: replaces @SUBNET@
    std::string netnsDir;          ///< --netns-dir: where the pins go (driver default when empty)
    std::string dataDir;           ///< --data-dir: replaces @DATADIR@ (driver default when empty)
    int count = 0;                 ///< --count: containers
    bool ports = false;            ///< --ports: one port mapping per container
};

/// A driver's own flag: takes `arg`, reading its value through `next` ("" past the last
/// argument); false when `arg` is not one of the driver's flags.
using ExtraOption =
    std::function<bool(const std::string& arg, const std::function<std::string()>& next)>;

/// Parses argv[1..]: ChainOptions' flags into `o`, any other argument offered to `extra`.
/// Prints "unknown argument X" to stderr and returns false for an argument neither takes. A
/// `--count` that is not a number throws std::invalid_argument, as std::stoi does.
bool parseChainArgs(int argc, char** argv, ChainOptions& o, const ExtraOption& extra);

/// The network list of `o.chain` with @DATADIR@ = `dataDir`, @BRIDGE@ and @SUBNET@ replaced.
/// A missing or malformed file throws nlohmann::json::parse_error (the driver aborts).
nlohmann::json loadChain(const ChainOptions& o, const std::string& dataDir);

/// One pinned network namespace per container, `dir`/c<i>, removed by removeAll() or at the
/// latest by the destructor.
class ContainerNetns {
  public:
    /// Creates `dir` and `count` pinned namespaces in it; the first failure is returned (the
    /// namespaces created so far are removed).
    static Expected<ContainerNetns> create(const std::string& dir, int count);
    ContainerNetns(ContainerNetns&&) = default;
    ContainerNetns& operator=(ContainerNetns&&) = default;
    ~ContainerNetns();

    /// The pin of container `i`.
    [[nodiscard]] const std::string& path(int i) const { return paths_[size_t(i)]; }
    /// Unpins every namespace (idempotent).
    void removeAll();

  private:
    ContainerNetns() = default;
    std::vector<std::string> paths_;
};

/// The chain call for container `i` in `netns`: ID "<slug(label)>-<i>", eth0, and with
/// `o.ports` the mapping host port 20000+i -> 80/tcp (capability portMappings).
ChainCall containerCall(const ChainOptions& o, const std::string& netns, int i);

} // namespace tether::bench
