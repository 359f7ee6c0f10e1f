#include <cstdlib>
#include <cstring>

#include "base/error_list.hpp"
#include "libcni/attach.hpp"
#include "libnet/netns.hpp"
#include "runtime/launcher/cgroup.hpp"
#include "runtime/launcher/container.hpp"
#include "runtime/launcher/fs_util.hpp"
#include "runtime/launcher/state.hpp"

namespace tether::rt {

TeardownOrder teardownOrder() {
    const char* v = std::getenv("TETHER_TEARDOWN_ORDER");
    if (v && std::strcmp(v, "del-first") == 0) return TeardownOrder::DelFirst;
    if (v && std::strcmp(v, "netns-first") == 0) return TeardownOrder::NetnsFirst;
    return TeardownOrder::DelFirst;
}

Status teardownContainer(const LauncherPaths& paths, nlohmann::json& state, bool removeStateDir) {
    std::string id = state.value("id", "");
    StateLock lock(paths, id);
    ErrorList errors;
    auto note = [&](const Status& st, const std::string& what) { errors.add(st, what); };
    std::optional<Cgroup> cg;
    if (state.contains("cgroup")) {
        cg = Cgroup::fromJson(state["cgroup"]);
        if (cg->frozen()) note(cg->setFrozen(false), "thaw");
        note(cg->killAll(), "kill processes");
    }
    std::string pin = state.value("netns", "");
    auto unpin = [&] {
        if (pin.empty()) return;
        auto r = net::removePinnedNetns(pin);
        note(r ? Status{} : Status{std::unexpected(r.error())}, "remove netns " + pin);
    };
    auto detach = [&] {
        if (!state.contains("network")) return;
        AttachRequest req;
        req.containerId = id;
        req.netnsPath = pin;
        req.networks = state["network"].value("networks", std::vector<std::string>{});
        req.capabilityArgs = state["network"].value("capabilityArgs", nlohmann::json::object());
        note(detachNetworks(NetPaths::fromEnv(), req), "detach networks");
    };
    if (teardownOrder() == TeardownOrder::DelFirst) {
        detach();
        unpin();
    } else {
        unpin();
        detach();
    }
    if (cg) note(cg->remove(), "remove cgroup");
    if (removeStateDir) {
        note(removeTree(paths.stateDir(id)), "remove state");
    } else {
        state["status"] = "exited";
        state.erase("network");
        state.erase("netns");
        state.erase("cgroup");
        note(writeState(paths, id, state), "write state");
    }
    return errors.result();
}

} // namespace tether::rt
