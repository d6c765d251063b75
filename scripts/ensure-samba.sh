#!/usr/bin/env bash
# Installs Samba's smbd for the SMB tests when it is missing and we are root.
# Without root it only says how to get it; the SMB tests then skip, unless
# ARCHIV_REQUIRE_SMB=1 (as in CI), where a missing smbd fails them.
set -euo pipefail

find_smbd() {
	command -v smbd >/dev/null 2>&1 || [ -x /usr/sbin/smbd ]
}

if find_smbd; then
	exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "Samba fehlt: apt-get install -y samba" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq samba >/dev/null
	find_smbd && exit 0
	echo "Samba-Installation fehlgeschlagen" >&2
	exit 1
fi
echo "Hinweis: smbd nicht gefunden; die SMB-Tests werden übersprungen (als root: apt-get install -y samba)." >&2
