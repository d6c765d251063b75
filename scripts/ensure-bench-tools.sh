#!/usr/bin/env bash
# Installs the peers `make bench` compares with (rclone, rsync) and Samba
# when they are missing and we are root. Without root it only says what is
# missing; the benchmark then leaves those peers out of the table.
set -euo pipefail

"$(dirname "$0")/ensure-samba.sh"

missing=()
for tool in rclone rsync python3; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "Für den Benchmark fehlt: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq "${missing[@]}" >/dev/null
	exit 0
fi
echo "Hinweis: ${missing[*]} nicht gefunden; der Benchmark lässt diese Vergleiche aus (als root: apt-get install -y ${missing[*]})." >&2
