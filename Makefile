# werkstatt-backup — build, test, benchmark.
# `make test` installs what the tests need (Samba, when run as root; versitygw
# with go install) and runs
# gofmt, go vet and the whole suite with the race detector.
# `make image` builds the container image with podman or buildah from this
# machine's files (no registry needed); `make man` writes the man pages;
# `make install` installs binary, man pages and shell completion under
# $(DESTDIR)$(PREFIX).
# `make bench` measures the targets of SPEC 8 beside peer tools (cmd/wbbench)
# and writes BENCHMARKS.md; `make bench-go` runs the micro-benchmarks.

GO      ?= go
BIN     ?= bin/werkstatt-backup
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build test vet fmt-check deps fuzz demo bench bench-go clean image man install

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/werkstatt-backup

deps:
	@scripts/ensure-samba.sh
	@scripts/ensure-versitygw.sh
	@scripts/ensure-podman.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Each fuzz target runs a fixed number of inputs, not a fixed time: Go 1.26's
# fuzzer can end a duration-limited run with "context deadline exceeded"
# (golang/go#75804). New crashers land in the package's testdata/fuzz/<Name>/,
# beside the checked-in seed corpus, and then fail `go test` until fixed.
FUZZTIME ?= 20000x
FUZZ_TARGETS = ./codec/csvfmt:FuzzParse ./codec:FuzzDecodeMeta ./codec:FuzzDecodeMetaFast ./codec:FuzzEncodeMetaFast ./codec/v1:FuzzDecode ./backends/all:FuzzParse

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# go test starts the packages in the order named, two at a time on two
# cores: the longest ones first, so that none of them starts last and
# runs alone (./... adds the rest, each package once).
TEST_FIRST = ./cmd/werkstatt-backup ./history ./backup ./docs ./backends/s3 ./deploy ./backends/smb

test: deps fmt-check vet fuzz
	ARCHIV_SMB_TESTS=1 ARCHIV_S3_TESTS=1 $(GO) test -race -count=1 -timeout 25m $(TEST_FIRST) ./...

demo:
	$(GO) run ./cmd/werkstatt-backup demo

bench:
	@scripts/ensure-bench-tools.sh
	@scripts/ensure-versitygw.sh
	$(GO) run ./cmd/wbbench -out BENCHMARKS.md

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./codec/... ./backup ./store

# The image: FROM scratch with the static binary, the CA certificates and
# the time zone data of this Debian machine (deploy/Containerfile), user
# 65532. Tagged $(IMAGE):$(VERSION) and $(IMAGE):latest.
IMAGE     ?= werkstatt-backup
IMAGE_DIR ?= build/image
CONTAINER ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || (command -v buildah >/dev/null 2>&1 && echo buildah))

image:
	@if [ -z "$(CONTAINER)" ]; then echo "podman oder buildah fehlt (als root: scripts/ensure-podman.sh)" >&2; exit 1; fi
	rm -rf $(IMAGE_DIR)
	$(MAKE) --no-print-directory build BIN=$(IMAGE_DIR)/werkstatt-backup
	scripts/image-rootfs.sh $(IMAGE_DIR) $(IMAGE_DIR)/werkstatt-backup
	$(CONTAINER) build --pull=never -f deploy/Containerfile -t $(IMAGE):$(VERSION) -t $(IMAGE):latest $(IMAGE_DIR)

# Man pages from the cobra commands (cobra's doc generator, the hidden
# command `man`), one per command, into $(MANDIR_BUILD).
MANDIR_BUILD ?= build/man

man:
	rm -rf $(MANDIR_BUILD)
	$(GO) run ./cmd/werkstatt-backup man --dir $(MANDIR_BUILD)

# Binary, man pages and shell completion (bash, zsh, fish).
PREFIX ?= /usr/local
BINDIR  = $(DESTDIR)$(PREFIX)/bin
MAN1DIR = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR  = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

install: build man
	install -d $(BINDIR) $(MAN1DIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 0755 $(BIN) $(BINDIR)/werkstatt-backup
	install -m 0644 $(MANDIR_BUILD)/*.1 $(MAN1DIR)/
	$(BIN) completion bash > $(BASHDIR)/werkstatt-backup
	$(BIN) completion zsh > $(ZSHDIR)/_werkstatt-backup
	$(BIN) completion fish > $(FISHDIR)/werkstatt-backup.fish

clean:
	rm -rf bin build
