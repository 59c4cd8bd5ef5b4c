# stockd: see README.md. `make run` and `make test` are the two commands a
# new user needs; the rest are their parts.

GO        ?= go
BIN       ?= bin/stockd
PKGS      := ./...
RACE      ?= -race
# A count of executions per fuzz target, not a duration: Go 1.26's fuzz
# coordinator can fail a duration run with "context deadline exceeded" at
# its end on a loaded machine (go.dev/issue/75804, fixed in Go 1.27); a
# count has no deadline to race. 100000x is a few seconds a target here.
FUZZTIME  ?= 100000x
# What `stockd version` and stockd_build_info say; the Dockerfile passes it
# in, since the image's build has no .git.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test test-unit test-integration test-multi test-e2e test-compose check deadcode fuzz lint-openapi generate price-data bench loadtest up down clean

## run: the whole service on in-memory adapters, no server needed (:8080).
## It runs the built binary, not `go run`: on Ctrl-C stockd drains and
## exits 0, and so does make (go run exits 1 when its child had a signal).
run: build
	exec $(abspath $(BIN))

## build: the static binary the Docker image ships
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w -X main.version=$(VERSION)' -o $(BIN) ./cmd/stockd

## test: everything CI runs (build included: it is the Dockerfile's command);
## about 10 minutes on a fresh 2-core machine, most of it compiling for -race
test: check lint-openapi build test-unit test-integration test-multi fuzz test-e2e

## test-unit: no server needed; the edit-test loop (RACE= to skip -race)
test-unit:
	$(GO) test $(RACE) -count=1 -timeout=5m $(PKGS)

## test-e2e: the dashboard in Debian's Chromium against stockd and a throwaway
## redis-server (installs chromium and the e2e npm packages when missing)
test-e2e: build
	STOCKD_BIN=$(abspath $(BIN)) e2e/run.sh

## test-multi: two `stockd serve` and two `stockd update` behind nginx on one
## throwaway Redis, PostgreSQL database and kfake (docs/several-processes.md)
test-multi:
	$(GO) test -count=1 -timeout=10m -tags multi -run '^TestTwoByTwoBehindNginx$$' ./cmd/stockd

## test-compose: the whole compose.yaml stack in Docker, checked through nginx,
## with one api and one updater stopped under load, and the image's checks
## (docs/docker.md). Needs Docker and Compose v2; without a registry, the
## stand-ins of scripts/standins/build.sh. Beside `make test` in .ci/run.
test-compose: compose-v2
	scripts/test-compose.sh

## test-integration: throwaway redis-server and PostgreSQL database (see docs/operations.md)
test-integration:
	$(GO) test $(RACE) -count=1 -timeout=10m -tags integration $(PKGS)

## check: formatting, vet, staticcheck, dead code, the domain's imports, no adapter importing another, generated files, links in the docs
check: deadcode
	./scripts/check-links.sh
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)
	$(GO) vet -tags integration $(PKGS)
	$(GO) vet -tags multi ./cmd/stockd
	$(GO) tool staticcheck $(PKGS)
	@deps="$$($(GO) list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./domain/... | grep -v '^stockd/domain$$')"; \
	  test -z "$$deps" || { echo "domain imports non-standard packages: $$deps"; exit 1; }
	@imports="$$($(GO) list -f '{{.ImportPath}} {{join .Deps " "}}' ./adapters/... | \
	  awk '{ split($$1, p, "/"); own = p[1] "/" p[2] "/" p[3] "/"; \
	    for (i = 2; i <= NF; i++) if ($$i ~ /^stockd\/adapters\// && index($$i "/", own) != 1) print $$1 " imports " $$i }')"; \
	  test -z "$$imports" || { echo "adapters import each other (share through a package of their own):"; echo "$$imports"; exit 1; }
	$(GO) generate ./...
	@test -z "$$(git status --porcelain -- ports/portsmock)" || { git status --short -- ports/portsmock; echo "generated mocks are stale or new: run make generate and commit"; exit 1; }

## deadcode: no function that nothing, not even a test, calls
deadcode:
	@out="$$($(GO) tool deadcode -test -tags integration $(PKGS))"; test -z "$$out" || { echo "$$out"; exit 1; }

## fuzz: a short run of every fuzz target (one target per go test -fuzz)
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzRead$$' -fuzztime=$(FUZZTIME) ./adapters/csv
	$(GO) test -run='^$$' -fuzz='^FuzzRowsAgreeWithEncodingCSV$$' -fuzztime=$(FUZZTIME) ./adapters/csv
	$(GO) test -run='^$$' -fuzz='^FuzzTimeOfDayAgreesWithTheDomain$$' -fuzztime=$(FUZZTIME) ./adapters/csv
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeRecord$$' -fuzztime=$(FUZZTIME) ./adapters/kafka
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeBuyRequest$$' -fuzztime=$(FUZZTIME) ./adapters/http
	$(GO) test -run='^$$' -fuzz='^FuzzCursor$$' -fuzztime=$(FUZZTIME) ./adapters/http
	$(GO) test -run='^$$' -fuzz='^FuzzOrdersJSON$$' -fuzztime=$(FUZZTIME) ./adapters/http
	$(GO) test -tags integration -run='^$$' -fuzz='^FuzzUserRecord$$' -fuzztime=$(FUZZTIME) ./adapters/redis
	$(GO) test -tags integration -run='^$$' -fuzz='^FuzzTradeJudges$$' -fuzztime=$(FUZZTIME) ./adapters/redis
	$(GO) test -tags integration -run='^$$' -fuzz='^FuzzPositionRecord$$' -fuzztime=$(FUZZTIME) ./adapters/redis

## lint-openapi: Redocly CLI (pinned, installed by npm into .cache/npm) on api/openapi.yaml
lint-openapi:
	./scripts/lint-openapi.sh

## generate: regenerate mocks
generate:
	$(GO) generate ./...

## price-data: regenerate the shipped price_data.csv
price-data:
	$(GO) run ./cmd/pricegen -o price_data.csv

## bench: the benchmarks (numbers go in notes, never in assertions)
bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

## loadtest: throughput and latency against throwaway servers (docs/performance.md); LOADTEST_QUICK=1 for a smoke run
loadtest:
	bash scripts/loadtest.sh

## up / down: the whole stack in Docker (compose.yaml); needs Docker Compose v2
up: compose-v2
	VERSION=$(VERSION) docker compose up -d --build

down: compose-v2
	docker compose down -v

# compose-v2: without the plugin, `docker compose up -d` fails with
# "unknown shorthand flag: 'd'", which says nothing of what is missing.
.PHONY: compose-v2
compose-v2:
	@docker compose version >/dev/null 2>&1 || { echo "make: Docker Compose v2 is needed (the docker compose plugin, not docker-compose v1): https://docs.docker.com/compose/install/" >&2; exit 1; }

clean:
	rm -rf bin
