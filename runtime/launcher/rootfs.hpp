// The container's filesystem: the default busybox rootfs assembled once on the host, and the
// mount sequence run inside the container's new mount namespace (root, /proc, /sys, /dev, /tmp,
// volumes, pivot_root, masked and read-only paths).
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "runtime/launcher/options.hpp"

namespace tether::rt {

/// Returns <libRoot>/rootfs/default, building it first when missing: the host's static
/// /bin/busybox, one symlink per applet (`busybox --list-full`), and a minimal /etc (passwd,
/// group, hosts, resolv.conf). Built in a temporary directory and renamed into place under a
/// lock, so concurrent first runs are safe and a half-built tree is never used.
Expected<std::string> ensureDefaultRootfs(const LauncherPaths& paths);

/// What the container process mounts. Exactly one of bindSource / lower is set.
struct MountPlan {
    std::string root;               ///< mount point of the container root
    std::string bindSource;         ///< --rootfs: bind-mounted on itself (root == bindSource)
    std::string lower, upper, work; ///< overlay: image and per-container upper/work
    /// Upper and work in a tmpfs private to the container's mount namespace, mounted over the
    /// image dir (root == lower; the overlay finds the image through an fd opened before):
    /// nothing is created on the host, nothing there is locked or written, and everything goes
    /// away with the mount namespace. upper/work are then below `lower`.
    bool privateUpper = false;
    bool readOnly = false;
    std::vector<Volume> volumes;
    bool newIpc = true;  ///< mount a fresh mqueue
    bool newPid = true;  ///< the /proc mounted shows only the container
    bool userns = false; ///< sysfs falls back to a read-only rbind; /dev nodes are bind mounts
    std::vector<DeviceRequest> devices; ///< --device nodes made (bound with userns) in /dev
};

/// Runs in the container process, in its new mount namespace, as root: makes / private, mounts
/// the root and everything below it (paths inside the root are created without following
/// symlinks), pivot_root(".", ".") and detaches the old root, masks runc's masked paths and
/// remounts the read-only ones. Errors name the mount.
Status setupMounts(const MountPlan& plan);

} // namespace tether::rt
