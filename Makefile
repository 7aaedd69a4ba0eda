# authbench: make run (default suite on loopback, writes a report), make test.
GO ?= go
BIN := bin/authbench
OUT ?= out
# The default suite's schemes: the baseline, Cylc 7, the token plans, the
# job stores, encryption, and CurveZMQ as Cylc 8 ships it and per job.
SCHEMES ?= plain,passphrase,jwt,jwt:command,jwt:shared=10s,jwt:timed=60s/6s,jwt:job=file,jwt:job=combined,jwt:job=status,jwe,jwe/ECDH-ES:job=file,curve,curve-job,curve+jwt:command
SCENARIO ?= smoke
SUITE ?= -scenario cli-interactive -scenario cli-burst -scenario job-storm -scenario cycle-point
REPEAT ?= 1

.PHONY: setup build test run report bench lint fuzz clean

setup:
	@bash scripts/setup.sh

build: setup
	$(GO) build -o $(BIN) ./cmd/authbench

test: setup
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) test -race -count=1 -timeout 20m ./...

# The main job: the smoke scenario over the default schemes on loopback,
# then a report (out/REPORT.md with its plots).
run: build
	./$(BIN) run -scenario $(SCENARIO) -schemes $(SCHEMES) -out $(OUT)
	./$(BIN) report -o $(OUT)/REPORT.md $(OUT)

# The design-review report: the default suite, regenerating REPORT.md and
# its plots at the repository root (takes tens of minutes).
report: build
	./$(BIN) run -quiet -repeat $(REPEAT) $(SUITE) -schemes $(SCHEMES) -out $(OUT)/suite
	./$(BIN) report -o REPORT.md $(OUT)/suite

bench: setup
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

lint: setup
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

clean:
	rm -rf bin $(OUT)
