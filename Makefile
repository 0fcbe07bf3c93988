# Pinhole's developer commands. `make run` and `make test` are the two that
# matter; everything else supports them.

GO ?= go
# Packages under test; override to focus, e.g. `make test PKG=./identity/...`.
PKG ?= ./...
# Generous: the first run of the integration tests starts several real servers.
TEST_TIMEOUT ?= 30m

.PHONY: run test tools generate check-generate lint bench help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

run: ## run the app at http://localhost:8080 on embedded defaults (first run builds MinIO: ~10 min)
	$(GO) run ./cmd/pinhole dev

tools: ## build MinIO and Mailpit from their pinned modules into ./bin (once; later runs reuse them)
	$(GO) run ./cmd/pinhole tools

generate: ## regenerate templ components (views/*_templ.go)
	$(GO) tool templ generate

check-generate: ## fail if committed templ output differs from the .templ sources
	@$(GO) tool templ generate >/dev/null
	@git diff --exit-code --stat -- '*_templ.go' || { echo "templ output is stale: run 'make generate' and commit"; exit 1; }

lint: ## gofmt and go vet must be clean
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test: tools lint check-generate ## every test, with the race detector, against real PostgreSQL, MinIO, SMTP and Chromium
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKG)

bench: ## performance report (docs/BENCHMARKS.md); filled in by the benchmarks issue
	@echo "make bench: not built yet. It will measure, side by side with same-run baselines:"
	@echo "  sign-in throughput vs pure argon2id, unknown-user vs wrong-password latency,"
	@echo "  refresh throughput and p99, auth middleware overhead, credential vend (cached/uncached),"
	@echo "  browser upload vs direct S3 PUT, idle and peak RSS (see SPEC section 5)."
