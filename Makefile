# Strata — see README.md. Targets are the outside interface of ../shared/INTERFACE.md.
GO        ?= go
BIN       := bin
GOFLAGS   ?=
export GOFLAGS

.PHONY: build run test test-unit test-e2e lint chaos bench clean

# The version nodes report (stratactl cluster status): the git description.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/strata-io/strata/node.Version=$(VERSION)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/strata-node ./cmd/node
	$(GO) build -o $(BIN)/stratactl ./cmd/ctl

# A local 4-node cluster on 127.0.0.1 (S3 on 9000-9003, EC 2+2, data in ./run/).
run: build
	./scripts/run-local.sh

# Everything that needs only this repository and the machine's usual tools.
# -p 1: the machine has 2 cores and the cluster tests start many nodes.
# test/e2e writes the client matrix (client x workflow) to MATRIX; it is
# printed after go test, whose exit status is the target's. The test looks
# at the file it rewrites, so go test never serves test/e2e from its cache.
MATRIX := $(CURDIR)/$(BIN)/client-matrix.txt
test: build
	./scripts/test-deps.sh
	$(GO) vet ./...
	@rm -f $(MATRIX)
	STRATA_MATRIX_FILE=$(MATRIX) $(GO) test -p 1 -timeout 15m ./...; s=$$?; \
	if [ -f $(MATRIX) ]; then echo; cat $(MATRIX); else echo "client matrix: not written (see the go test output)"; fi; \
	exit $$s

# Unit and in-process tests only (no binaries, no aws CLI).
test-unit:
	$(GO) test -p 1 -short ./...

lint:
	gofmt -l $$(git ls-files '*.go') | tee /dev/stderr | (! read)
	$(GO) vet ./...
	staticcheck ./...

# The long fault-injection suite (test/chaos); CHAOS_SEED=N replays a run.
# A 90 s smoke of it runs in make test (TestChaosSmoke).
chaos: build
	$(GO) test -p 1 -count=1 -timeout 30m -v ./test/chaos/ -run TestChaosFull -chaos.full -chaos.bin $(CURDIR)/$(BIN)

# The benchmark suite (stratactl bench) against a fresh local 4-node cluster,
# EC 6+2, 16 clients; BENCH_DURATION=10s BENCH_WORKLOADS=put-1m,get-1m
# shorten it. See docs/benchmarks.md.
bench: build
	./scripts/bench.sh

clean:
	rm -rf $(BIN)
