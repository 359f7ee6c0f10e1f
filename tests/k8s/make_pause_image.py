#!/usr/bin/python3
"""Builds a tiny OCI image tarball that stands in for the pause image, from busybox-static.

Usage: make_pause_image.py BUSYBOX OUT.tar NAME
The image has one layer (/bin/busybox, /bin/sh, /bin/sleep links) and the entrypoint
`/bin/busybox sleep 2147483647` (a sandbox only has to stay alive until it is killed). The
tarball is an OCI image layout (oci-layout, index.json, blobs/sha256/...) whose index names the
image NAME (annotation io.containerd.image.name), as `ctr images import` expects.
"""
import hashlib
import io
import json
import sys
import tarfile


def add_bytes(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def layer_tar(busybox):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("bin", "dev", "etc", "proc", "sys", "tmp"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        with open(busybox, "rb") as f:
            add_bytes(tar, "bin/busybox", f.read(), 0o755)
        for link in ("sh", "sleep"):
            info = tarfile.TarInfo("bin/" + link)
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
    return buf.getvalue()


def main(argv):
    busybox, out, name = argv[1], argv[2], argv[3]
    layer = layer_tar(busybox)
    layer_digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": ["/bin/busybox", "sleep", "2147483647"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": len(layer)}],
    }).encode()
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": manifest_digest, "size": len(manifest),
                       "platform": {"architecture": "amd64", "os": "linux"},
                       "annotations": {"io.containerd.image.name": name,
                                       "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}}],
    }).encode()
    with tarfile.open(out, "w") as tar:
        add_bytes(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add_bytes(tar, "index.json", index)
        for digest, blob in ((layer_digest, layer), (config_digest, config),
                             (manifest_digest, manifest)):
            add_bytes(tar, "blobs/sha256/" + digest.split(":", 1)[1], blob)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
