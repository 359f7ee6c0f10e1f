#include <unistd.h>

#include <cstdio>
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

Status teardownContainer(const LauncherPaths& paths, ContainerState& state, bool removeStateDir) {
    const std::string& id = state.id;
    StateLock lock(paths, id);
    ErrorList errors;
    auto note = [&](const Status& st, const std::string& what) { errors.add(st, what); };
    if (state.cgroup) {
        if (state.cgroup->frozen()) note(state.cgroup->setFrozen(false), "thaw");
        note(state.cgroup->killAll(), "kill processes");
    }
    std::string pin = state.netns.value_or("");
    auto unpin = [&] {
        if (pin.empty()) return;
        auto r = net::removePinnedNetns(pin);
        note(r ? Status{} : Status{std::unexpected(r.error())}, "remove netns " + pin);
    };
    auto detach = [&] {
        if (!state.network) return;
        AttachRequest req;
        req.containerId = id;
        req.netnsPath = pin;
        req.networks = state.network->networks;
        req.capabilityArgs = state.network->capabilityArgs;
        note(detachNetworks(NetPaths::fromEnv(), req), "detach networks");
    };
    if (teardownOrder() == TeardownOrder::DelFirst) {
        detach();
        unpin();
    } else {
        unpin();
        detach();
    }
    if (state.cgroup) note(state.cgroup->remove(), "remove cgroup");
    if (removeStateDir) {
        note(removeTree(paths.stateDir(id)), "remove state");
    } else {
        state.status = ContainerStatus::Exited;
        state.network.reset();
        state.netns.reset();
        state.cgroup.reset();
        note(writeState(paths, state), "write state");
    }
    return errors.result();
}

Status removeUnreadableContainer(const LauncherPaths& paths, const std::string& id,
                                 const Error& why) {
    std::string dir = paths.stateDir(id);
    if (!isStateDir(dir)) return std::unexpected(why);
    StateLock lock(paths, id);
    ErrorList errors;
    for (auto& [cgId, cg] : Cgroup::listUnder(paths.stateRoot, paths.cgroupParent)) {
        if (cgId != id) continue;
        if (cg.frozen()) errors.add(cg.setFrozen(false), "thaw");
        errors.add(cg.killAll(), "kill processes");
        errors.add(cg.remove(), "remove cgroup");
    }
    std::string pin = paths.netnsPath(id);
    if (::access(pin.c_str(), F_OK) == 0) {
        auto r = net::removePinnedNetns(pin);
        errors.add(r ? Status{} : Status{std::unexpected(r.error())}, "remove netns " + pin);
    }
    errors.add(removeTree(dir), "remove state");
    std::fprintf(stderr,
                 "tether: %s: removed without its state (%s); its network attachments, if any, "
                 "were not detached (`tether net del NETWORK %s --id %s` detaches one)\n",
                 id.c_str(), why.text().c_str(), pin.c_str(), id.c_str());
    return errors.result();
}

} // namespace tether::rt
