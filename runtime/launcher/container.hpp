// Running a container (`tether run`) and tearing it down again (end of run, `rm`, `gc`).
#pragma once

#include "base/error.hpp"
#include "runtime/launcher/options.hpp"
#include "runtime/launcher/state.hpp"

namespace tether::rt {

/// Runs `opts` and returns the exit status to give the user: the command's exit code, 128+signal
/// when it was killed, 125 when setup failed (message on stderr), 126/127 when exec failed. In
/// detached mode returns once the command has been exec'd (printing the id) and leaves a
/// supervisor process that reaps the container and tears it down. Validation errors are
/// returned before anything is touched; any later failure undoes every step.
Expected<int> runContainer(const LauncherPaths& paths, RunOptions opts);

/// `create`: validates `opts` as run does and records the container (status "created", the
/// options in state.json "config") without starting it; prints the id. Returns 0.
Expected<int> createContainer(const LauncherPaths& paths, RunOptions opts);

/// `start`/`restart`: runs the created or exited container `id` again from its recorded options
/// (detached); the state dir is reused. Returns like runContainer.
Expected<int> rerunContainer(const LauncherPaths& paths, const std::string& id);

/// Which teardown order for the network: CNI DEL while the netns still exists, then unpin it
/// ("del-first"), or unpin first and let the kernel destroy the interfaces with the namespace
/// while DEL only releases host-side state ("netns-first"). The default is del-first, as podman
/// and containerd do: after teardown no interface of the container is left on the host.
/// TETHER_TEARDOWN_ORDER overrides.
enum class TeardownOrder { DelFirst, NetnsFirst };
TeardownOrder teardownOrder();

/// Kills everything in the container's cgroup, detaches its networks, removes the pinned netns
/// and the cgroup, then either removes the state dir (`removeStateDir`) or records it as exited
/// (status Exited, without cgroup, netns and network).
/// Every step runs even when an earlier one failed; missing resources are success. The errors
/// are joined in the result.
Status teardownContainer(const LauncherPaths& paths, ContainerState& state, bool removeStateDir);

/// `rm -f` of a container whose state.json cannot be read (`why`): kills and removes its cgroup
/// (found by id under the cgroup parent), removes its netns pin and its state dir (only a dir
/// `run` marked). Its network attachments cannot be named without the state, so they are not
/// detached; stderr says so, with the command that detaches one by hand.
Status removeUnreadableContainer(const LauncherPaths& paths, const std::string& id,
                                 const Error& why);

} // namespace tether::rt
