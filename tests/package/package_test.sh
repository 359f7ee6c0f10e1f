#!/usr/bin/env bash
# Builds the .deb packages with cpack, checks their control fields and contents, unpacks both into
# a scratch root (dpkg-deb -x) and runs the main job from that tree: `tether run` on the built-in
# default network, CNI_PATH unset, so the plugins must be found through the compiled-in layout
# relative to /proc/self/exe. Everything network-touching runs inside unshare --net --mount, where
# the host's plugin dirs (/usr/lib/cni, /opt/cni) are hidden and /var/lib, /run/netns are tmpfs:
# the run can only succeed with the scratch root's plugins, and nothing reaches the host.
# Also checks `tether net gc --all` there. Usage: package_test.sh BUILD_DIR (as root)
set -euo pipefail
build=$(cd "$1" && pwd)
cmake --build "$build" -j2 --target tether tether-cni masquerade firewall dhcp tether-man >/dev/null
work=$(mktemp -d /tmp/tether-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0711 "$work"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

(cd "$build" && cpack -G DEB -B "$work/debs" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
cli=$(ls "$work"/debs/tether_*.deb)
plugins=$(ls "$work"/debs/tether-cni-plugins_*.deb)
ok "built $(basename "$cli") $(basename "$plugins")"

# ---- control fields and contents ---------------------------------------------------------------
field() { dpkg-deb -f "$1" "$2"; }
version=$(field "$cli" Version)
[[ "$(field "$cli" Package)" == tether ]] || fail "cli package name"
[[ "$(field "$plugins" Package)" == tether-cni-plugins ]] || fail "plugins package name"
field "$cli" Depends | grep -q "tether-cni-plugins (= $version)" || fail "tether Depends lacks tether-cni-plugins (= $version)"
field "$cli" Depends | grep -q "libc6" || fail "tether Depends lacks libc6 (shlibdeps)"
field "$cli" Recommends | grep -q "busybox-static" || fail "tether Recommends lacks busybox-static"
field "$plugins" Depends | grep -q "libnftables1" || fail "plugins Depends lacks libnftables1 (dlopen)"
field "$plugins" Depends | grep -q "libc6" || fail "plugins Depends lacks libc6 (shlibdeps)"
field "$plugins" Recommends | grep -q "iptables" || fail "plugins Recommends lacks iptables"
ok "control: tether Depends: $(field "$cli" Depends); tether-cni-plugins Depends: $(field "$plugins" Depends)"
dpkg-deb -c "$cli" | awk '{print $6}' | sed 's|^\./|/|' >"$work/cli.files"
dpkg-deb -c "$plugins" | awk '{print $6}' | sed 's|^\./|/|' >"$work/plugins.files"
for f in /usr/bin/tether /usr/share/man/man1/tether.1 /usr/share/man/man1/tether-run.1 \
    /usr/share/man/man7/tether-cni.7 /usr/share/bash-completion/completions/tether \
    /usr/share/zsh/vendor-completions/_tether /usr/lib/systemd/system/tether-gc.service \
    /usr/lib/systemd/system/tether-gc.timer /usr/lib/tmpfiles.d/tether.conf \
    /usr/share/doc/tether/copyright; do
    grep -qx "$f" "$work/cli.files" || fail "tether lacks $f"
done
for f in /usr/lib/tether/cni/tether-cni /usr/lib/tether/cni/bridge /usr/lib/tether/cni/host-local \
    /usr/lib/tether/cni/portmap /usr/lib/tether/cni/ptp /usr/lib/tether/cni/masquerade \
    /usr/lib/tether/cni/static /usr/lib/tether/cni/macvlan /usr/lib/tether/cni/host-device \
    /usr/lib/tether/cni/tap /usr/lib/tether/cni/sbr /usr/lib/tether/cni/tuning \
    /usr/lib/tether/cni/bandwidth /usr/lib/tether/cni/firewall /usr/lib/tether/cni/dhcp \
    /usr/share/doc/tether-cni-plugins/copyright; do
    grep -qx "$f" "$work/plugins.files" || fail "tether-cni-plugins lacks $f"
done
# Nothing silently overwritten: no file shared with the reference plugins' package.
if dpkg-query -L containernetworking-plugins >"$work/ref.files" 2>/dev/null; then
    shared=$(sort -u "$work/ref.files" | comm -12 - <(grep -v '/$' "$work/plugins.files" "$work/cli.files" | cut -d: -f2 | sort -u) | grep -v '^/usr/share/doc$\|^/usr\(/lib\|/share\)\?$' || true)
    [[ -z "$shared" ]] || fail "files shared with containernetworking-plugins: $shared"
fi
grep -q '^/usr/lib/cni/' "$work/plugins.files" && fail "tether-cni-plugins installs into /usr/lib/cni"
grep -q "Apache" <(dpkg-deb --fsys-tarfile "$plugins" | tar -xO ./usr/share/doc/tether-cni-plugins/copyright) ||
    fail "copyright lacks the license"
for s in postinst prerm postrm; do
    dpkg-deb --ctrl-tarfile "$cli" | tar -x -C "$work" "./$s" 2>/dev/null || fail "tether has no $s"
    sh -n "$work/$s" || fail "$s does not parse"
done
ok "contents: $(wc -l <"$work/cli.files") + $(wc -l <"$work/plugins.files") paths, none shared with containernetworking-plugins"

# ---- cmake --install replaces its own files, never someone else's ------------------------------
dest=$work/destdir
DESTDIR=$dest cmake --install "$build" --prefix /usr >/dev/null || fail "cmake --install into DESTDIR"
DESTDIR=$dest cmake --install "$build" --prefix /usr >/dev/null || fail "cmake --install over its own files"
[[ -x $dest/usr/lib/tether/cni/bridge ]] || fail "cmake --install: plugin dir does not follow the prefix"
rm "$dest/usr/lib/tether/cni/bridge"
printf '#!/bin/sh\n# not ours\n' >"$dest/usr/lib/tether/cni/bridge"
if DESTDIR=$dest cmake --install "$build" --prefix /usr >"$work/guard.log" 2>&1; then
    fail "cmake --install replaced a foreign file"
fi
tr -s "\n " "  " <"$work/guard.log" | grep -q "refusing to replace .*/bridge" || fail "guard message does not name the file"
grep -q "not ours" "$dest/usr/lib/tether/cni/bridge" || fail "foreign file was modified"
ok "cmake --install: reinstall over its own files works; a foreign bridge stops it untouched"

# ---- unpack into a scratch root and run the main job from it -----------------------------------
root=$work/root
dpkg-deb -x "$plugins" "$root"
dpkg-deb -x "$cli" "$root"
[[ -x $root/usr/bin/tether && -x $root/usr/lib/tether/cni/bridge ]] || fail "unpacked tree incomplete"
[[ "$(readlink "$root/usr/lib/tether/cni/bridge")" == tether-cni ]] || fail "bridge is not a link to tether-cni"
mkdir -p "$work/net.d"
out=$(env -u CNI_PATH -u NETCONFPATH -u CNI_CACHE_DIR ROOT="$root" WORK="$work" \
    unshare --net --mount --propagation private bash -euo pipefail -c '
    ip link set lo up
    for d in /usr/lib/cni /opt/cni /usr/lib/tether /usr/local/lib/tether; do
        [[ -d $d ]] && mount -t tmpfs none "$d"
    done
    mount -t tmpfs none /var/lib
    if [[ -d /run/netns ]]; then mount -t tmpfs none /run/netns; else mount -t tmpfs none /run; mkdir /run/netns; fi
    export TETHER_STATE_DIR=$WORK/state TETHER_LIB_DIR=$WORK/lib TETHER_NETNS_DIR=$WORK/netns
    export TETHER_CGROUP_PARENT=tether-pkgtest-$$ NETCONFPATH=$WORK/net.d
    t=$ROOT/usr/bin/tether
    echo "== run"
    "$t" run -- sh -c "ip addr show eth0; ip route; ping -c1 -W1 10.77.0.1"
    echo "== after"
    ls -A /var/lib/cni/results 2>/dev/null | sed "s/^/cache: /" || true
    ls -A /var/lib/tether/networks/default 2>/dev/null | grep -v "^lock$\|^last_reserved\|^tether\.owners$" | sed "s/^/lease: /" || true
    ip -o link show type veth | sed "s/^/veth: /" || true
    "$t" ps | tail -n +2 | sed "s/^/container: /"
    echo "== gc"
    "$t" netns add pkg-live
    "$t" netns add pkg-dead
    "$t" net add default /run/netns/pkg-live --id live >/dev/null
    "$t" net add default /run/netns/pkg-dead --id dead >/dev/null
    "$t" netns del pkg-dead
    echo "cached before: $(ls /var/lib/cni/results | xargs)"
    "$t" net gc --all
    echo "cached after: $(ls /var/lib/cni/results | xargs)"
    echo "leases after: $(ls /var/lib/tether/networks/default | grep -c "^10\.")"
    "$t" net del default /run/netns/pkg-live --id live
    "$t" netns del pkg-live
    echo "cached end: $(ls -A /var/lib/cni/results | xargs)"
' 2>&1) || { echo "$out"; fail "main job from the scratch root failed"; }
echo "$out" | sed 's/^/  | /'
run=$(sed -n '/^== run/,/^== after/p' <<<"$out")
grep -q "inet 10\.77\." <<<"$run" || fail "container has no 10.77.x address on eth0"
grep -q "default via 10\.77\.0\.1" <<<"$run" || fail "container has no default route via 10.77.0.1"
grep -q " 0% packet loss" <<<"$run" || fail "container could not ping the gateway"
after=$(sed -n '/^== after/,/^== gc/p' <<<"$out")
grep -q "^cache: \|^lease: \|^veth: \|^container: " <<<"$after" && fail "left behind after run: $after"
grep -q "^cached before: default-dead-eth0 default-live-eth0$" <<<"$out" || fail "gc setup: two cached attachments expected"
grep -q "network default: 1 stale attachment(s) removed, 1 kept" <<<"$out" || fail "gc --all report"
grep -q "^cached after: default-live-eth0$" <<<"$out" || fail "gc --all must remove only the attachment whose netns is gone"
grep -q "^leases after: 1$" <<<"$out" || fail "gc --all must release the dead attachment's lease only"
grep -q "^cached end: $" <<<"$out" || fail "cache not empty at the end"
((fails == 0)) || { echo "$fails failure(s)"; exit 1; }
ok "main job ran from the unpacked packages with the compiled-in plugin dir; gc --all kept the live attachment"
