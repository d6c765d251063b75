# syntax=docker/dockerfile:1
#
# werkstatt-backup in a container: one static binary on distroless, running
# as the unprivileged user 65532. By default it runs `schedule`, i.e. the
# nightly export at 02:00 (TZ, default Europe/Berlin), without cron.
#
#   docker build -t werkstatt-backup --build-arg VERSION="$(git describe --tags --always --dirty)" .
#   docker run --rm werkstatt-backup version
#
# See docker-compose.example.yml for the config, the SMB password as a
# secret and the state volume (log, last_run.json, metrics).

# --- build -------------------------------------------------------------------
FROM golang:1.26 AS build
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
    && mkdir -p /out/state

# --- run ---------------------------------------------------------------------
# distroless/static: no shell, no package manager; CA certificates, tzdata and
# /etc/passwd with the user "nonroot" (65532) are included.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/werkstatt-backup /usr/local/bin/werkstatt-backup
# The state folder belongs to the user, so a fresh named volume does too.
COPY --from=build --chown=65532:65532 /out/state /var/lib/werkstatt-backup
USER 65532:65532
# The working directory holds the default log file backup_system.log and,
# beside it, last_run.json (read by `status`).
WORKDIR /var/lib/werkstatt-backup
ENV ARCHIV_CONFIG=/etc/werkstatt-backup/config.json \
    TZ=Europe/Berlin
VOLUME ["/var/lib/werkstatt-backup"]
ENTRYPOINT ["/usr/local/bin/werkstatt-backup"]
# docker stop sends SIGTERM: a running export finishes the records it has
# begun and exits 130; between runs schedule exits 0 at once.
CMD ["schedule", "--at", "0 2 * * *", "--", "export"]
