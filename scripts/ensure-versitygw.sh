#!/usr/bin/env bash
# Installs Versity S3 Gateway (versitygw) for the S3 tests when it is
# missing: go install into $(go env GOPATH)/bin, where the tests look for it
# (besides PATH). Quiet when it is already there. If the install fails, the
# S3 tests skip; with ARCHIV_REQUIRE_S3=1 (as in CI) this script fails.
set -euo pipefail

VERSION=v1.8.0
GO=${GO:-go}
gobin=$($GO env GOPATH)/bin

if command -v versitygw >/dev/null 2>&1 || [ -x "$gobin/versitygw" ] || [ -x "$HOME/go/bin/versitygw" ]; then
	exit 0
fi
echo "versitygw fehlt: go install github.com/versity/versitygw/cmd/versitygw@$VERSION (dauert 1–2 Minuten)" >&2
if $GO install "github.com/versity/versitygw/cmd/versitygw@$VERSION"; then
	exit 0
fi
if [ "${ARCHIV_REQUIRE_S3:-}" = 1 ]; then
	echo "versitygw-Installation fehlgeschlagen (ARCHIV_REQUIRE_S3=1)" >&2
	exit 1
fi
echo "versitygw-Installation fehlgeschlagen; die S3-Tests werden übersprungen" >&2
exit 0
