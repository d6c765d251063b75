# werkstatt-backup — build, test, benchmark.
# `make test` installs what the tests need (Samba, when run as root; versitygw
# with go install) and runs
# gofmt, go vet and the whole suite with the race detector.
# `make bench` measures the targets of SPEC 8 beside peer tools (cmd/wbbench)
# and writes BENCHMARKS.md; `make bench-go` runs the micro-benchmarks.

GO      ?= go
BIN     ?= bin/werkstatt-backup
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build test vet fmt-check deps fuzz demo bench bench-go clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/werkstatt-backup

deps:
	@scripts/ensure-samba.sh
	@scripts/ensure-versitygw.sh

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

test: deps fmt-check vet fuzz
	ARCHIV_SMB_TESTS=1 ARCHIV_S3_TESTS=1 $(GO) test -race -count=1 -timeout 15m ./...

demo:
	$(GO) run ./cmd/werkstatt-backup demo

bench:
	@scripts/ensure-bench-tools.sh
	@scripts/ensure-versitygw.sh
	$(GO) run ./cmd/wbbench -out BENCHMARKS.md

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./codec/... ./backup ./store

clean:
	rm -rf bin
