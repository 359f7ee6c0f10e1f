#!/ bin / sh
#Runs the isolation probes(tests / e2e / launcher / probe.cpp) inside `runc run` with `runc spec`
#defaults(only the process args, terminal = false and a writable / dev / probe - node dir changed)
#and inside a default `tether run` container, and prints one row per probe:
#probe | tether | runc
#Usage(root, from the source tree, after building tether and launcher_probe):
#unshare-- net-- mount-- propagation private scripts / isolation - vs - runc.sh[BUILD_DIR]
set -eu
BUILD=${1:-build}
PROBE=$(realpath "$BUILD/tests/launcher_probe")
TETHER=$(realpath "$BUILD/bin/tether")
WORK=$(mktemp -d /tmp/tether-vs-runc.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export TETHER_STATE_DIR=$WORK/state TETHER_LIB_DIR=$WORK/lib TETHER_NETNS_DIR=$WORK/netns \
       TETHER_CGROUP_PARENT=tether-vs-runc
MARKER=$WORK/host-only-marker
echo host > "$MARKER"

#runc bundle : the same busybox rootfs the launcher builds, the probe inside.
"$TETHER" run --net none -- true >/dev/null
mkdir -p "$WORK/bundle"
cp -a "$WORK/lib/rootfs/default" "$WORK/bundle/rootfs"
cp "$PROBE" "$WORK/bundle/rootfs/probe"
(cd "$WORK/bundle" && runc spec)
ROOTDEV=$(stat -c '%Hd %Ld' /)

runc_probe() { # ARGS... -> stdout of the probe in a fresh runc container
    python3 - "$WORK/bundle/config.json" "$@" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["/probe"] + sys.argv[2:]
c["process"]["terminal"] = False
json.dump(c, open(p, "w"))
PY
    runc run --bundle "$WORK/bundle" "probe-$$" 2>&1 | tail -n 1
    runc delete -f "probe-$$" >/dev/null 2>&1 || true
}
tether_probe() {
    "$TETHER" run --net none -v "$PROBE:/probe:ro" -- /probe "$@" 2>&1 | tail -n 1
}
row() { # LABEL ARGS...
    label=$1
    shift
    printf '| %s | %s | %s |\n' "$label" "$(tether_probe "$@")" "$(runc_probe "$@")"
}

echo "| probe | tether run (default) | runc run (runc spec) |"
echo "|---|---|---|"
sh -c "sleep 60; :" "$MARKER" >/dev/null 2>&1 &
HOSTPID=$!
row "host processes visible" hostpid "$MARKER"
kill $(cat /proc/$HOSTPID/task/$HOSTPID/children) $HOSTPID 2>/dev/null || true
row "remount /proc rw" remount /proc
row "remount /sys rw" remount /sys
row "open /proc/sys/kernel/core_pattern for writing" write /proc/sys/kernel/core_pattern
row "open /sys/kernel/mm/transparent_hugepage/enabled for writing" write /sys/kernel/mm/transparent_hugepage/enabled
[ -e /proc/sysrq-trigger ] && row "open /proc/sysrq-trigger for writing" write /proc/sysrq-trigger
for sc in init_module finit_module delete_module kexec_load kexec_file_load bpf keyctl add_key \
          perf_event_open userfaultfd io_uring_setup unshare_newuser clone_newuser clone3_newuser \
          open_by_handle_at reboot swapon ptrace_init;
do
row "$sc" syscall $sc done row "mknod+open /dev/kmsg (c 1:11)" device c 1 11 row
    "mknod+open ttyS0 (c 4:64)" device c 4 64 row
    "mknod+open loop-control (c 10:237)" device c 10 237 row
    "mknod+open fuse (c 10:229)" device c 10 229
#shellcheck disable = SC2086
    row "mknod+open root disk (b $ROOTDEV)" device b $ROOTDEV row "chroot escape" breakout
        "$MARKER" row "host via /proc/1/root" proc1root "$MARKER" row "host via inherited fds" fds
        "$MARKER"
        "$TETHER" gc > / dev / null
