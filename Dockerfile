# syntax=docker/dockerfile:1
#
# werkstatt-backup in a container, for hosts that can pull a Go base image:
# the static binary on an empty (scratch) image with CA certificates and
# time zone data, running as the unprivileged user 65532. By default it
# runs `schedule`: the nightly export at 02:00 (TZ, default Europe/Berlin).
#
#   docker build -t werkstatt-backup --build-arg VERSION="$(git describe --tags --always --dirty)" .
#   docker run --rm werkstatt-backup version
#
# Without a registry, `make image` builds the same image with podman or
# buildah from this machine's files (deploy/Containerfile). See
# docker-compose.example.yml for the config, the SMB password as a secret
# and the state volume (log, last_run.json, metrics).

# --- build -------------------------------------------------------------------
# The Go version of go.mod's go line, pinned (deploy/container_test.go checks).
FROM golang:1.26.8-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The module download is its own layer: cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: pure Go (modernc.org/sqlite), so the binary needs no libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/werkstatt-backup ./cmd/werkstatt-backup \
    && /out/werkstatt-backup version \
    && scripts/image-rootfs.sh /out/image /out/werkstatt-backup

# --- run ---------------------------------------------------------------------
# As deploy/Containerfile from here on.
FROM scratch
COPY --from=build /out/image/rootfs/ /
COPY --from=build --chown=65532:65532 /out/image/state/ /var/lib/werkstatt-backup/
USER 65532:65532
WORKDIR /var/lib/werkstatt-backup
ENV ARCHIV_CONFIG=/etc/werkstatt-backup/config.json \
    TZ=Europe/Berlin
VOLUME ["/var/lib/werkstatt-backup"]
ENTRYPOINT ["/usr/local/bin/werkstatt-backup"]
CMD ["schedule", "--at", "0 2 * * *", "--", "export"]
