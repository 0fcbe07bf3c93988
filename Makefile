# Pinhole's developer commands. `make run` and `make test` are the two that
# matter; everything else supports them.

GO ?= go
# Packages under test; override to focus, e.g. `make test PKG=./identity/...`.
PKG ?= ./...
# Generous: the first run of the integration tests starts several real servers.
TEST_TIMEOUT ?= 30m
# Flags for the benchmark driver, e.g. BENCH_FLAGS='-only refresh,auth -gobench=false'
# to measure a part quickly (`go run ./cmd/pinhole-bench -h` lists them).
BENCH_FLAGS ?=

.PHONY: run test tools generate check-generate lint bench help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

run: ## run the app at http://localhost:8080 on embedded defaults (first run builds MinIO: ~10 min)
	$(GO) run ./cmd/pinhole dev

tools: ## build MinIO and Mailpit from their pinned modules into ./bin (once; later runs reuse them)
	$(GO) run ./cmd/pinhole tools

generate: ## regenerate templ components (views/*_templ.go)
	$(GO) tool templ generate

check-generate: ## fail if the templ output (views/*_templ.go) is stale against the .templ sources
	@before="$$(cat views/*_templ.go | cksum)"; \
	$(GO) tool templ generate >/dev/null 2>&1 || { echo "templ generate failed"; exit 1; }; \
	if [ "$$before" != "$$(cat views/*_templ.go | cksum)" ]; then \
	  echo "templ output was stale; it has been regenerated: review and commit views/*_templ.go"; exit 1; fi

lint: ## gofmt and go vet must be clean
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test: tools lint check-generate ## every test, with the race detector, against real PostgreSQL, MinIO, SMTP and Chromium
	@rm -f .test-skips
	@PINHOLE_SKIP_REPORT=$(CURDIR)/.test-skips $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKG); status=$$?; \
	if [ -s .test-skips ]; then echo; echo "Tests skipped for missing prerequisites (CI=true makes these failures):"; sort -u .test-skips; fi; \
	rm -f .test-skips; exit $$status

bench: tools ## performance report against same-run baselines (SPEC §5): prints the table, writes docs/BENCHMARKS.md (about 3 min)
	$(GO) run ./cmd/pinhole-bench -out docs/BENCHMARKS.md $(BENCH_FLAGS)
