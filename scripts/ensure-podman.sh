#!/usr/bin/env bash
# Installs podman for the container test (deploy/container_test.go) when it
# is missing and we are root, together with runc: crun, podman's default
# runtime on Debian 12, refuses a machine whose cgroup v2 hierarchy holds
# controllers beside cgroup v1 ("hybrid mode"); the test then runs with runc.
# Without root it only says how to get podman; the container test then
# skips, unless ARCHIV_REQUIRE_PODMAN=1 (as in CI), where it fails.
set -euo pipefail

have() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}

if have podman && have runc; then
	exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "podman oder runc fehlt: apt-get install -y podman runc" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq podman runc >/dev/null
	have podman && exit 0
	echo "podman-Installation fehlgeschlagen" >&2
	exit 1
fi
have podman && exit 0
echo "Hinweis: podman nicht gefunden; der Container-Test wird übersprungen (als root: apt-get install -y podman runc)." >&2
