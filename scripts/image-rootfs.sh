#!/usr/bin/env bash
# image-rootfs.sh OUT BINARY lays out the files of the container image in
# OUT/rootfs, taken from this Debian machine: the static binary, the CA
# certificates (package ca-certificates), the time zone data (package
# tzdata), /etc/passwd and /etc/group naming the user nonroot (65532), an
# empty configuration at ARCHIV_CONFIG's path (commands work with flags
# alone until a real one is mounted over it), and an empty /tmp; OUT/state becomes /var/lib/werkstatt-backup, owned by that
# user. `make image` and the Dockerfile's build stage both call it, so the
# image has the same files however it is built.
set -euo pipefail

out=${1:?Aufruf: image-rootfs.sh AUSGABEORDNER BINÄRDATEI}
bin=${2:?Aufruf: image-rootfs.sh AUSGABEORDNER BINÄRDATEI}
certs=/etc/ssl/certs/ca-certificates.crt
zoneinfo=/usr/share/zoneinfo

for f in "$certs" "$zoneinfo/Europe/Berlin"; do
	if [ ! -e "$f" ]; then
		echo "$f fehlt (als root: apt-get install -y ca-certificates tzdata)" >&2
		exit 1
	fi
done

rootfs=$out/rootfs
rm -rf "$rootfs" "$out/state"
install -D -m 0755 "$bin" "$rootfs/usr/local/bin/werkstatt-backup"
install -D -m 0644 "$certs" "$rootfs/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$rootfs/usr/share" "$rootfs/etc/werkstatt-backup" "$rootfs/tmp" "$out/state"
cp -a "$zoneinfo" "$rootfs/usr/share/"
chmod 1777 "$rootfs/tmp"
printf '{}\n' >"$rootfs/etc/werkstatt-backup/config.json"
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
	'nonroot:x:65532:65532:nonroot:/var/lib/werkstatt-backup:/sbin/nologin' >"$rootfs/etc/passwd"
printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' >"$rootfs/etc/group"
