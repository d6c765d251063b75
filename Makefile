# werkstatt-backup — build, test, benchmark.
# `make test` installs what the tests need (Samba, when run as root) and runs
# gofmt, go vet and the whole suite with the race detector.

GO      ?= go
BIN     ?= bin/werkstatt-backup
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build test vet fmt-check deps demo clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/werkstatt-backup

deps:
	@scripts/ensure-samba.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: deps fmt-check vet
	ARCHIV_SMB_TESTS=1 $(GO) test -race -count=1 -timeout 15m ./...

demo:
	$(GO) run ./cmd/werkstatt-backup demo

clean:
	rm -rf bin
