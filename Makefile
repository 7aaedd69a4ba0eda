# authbench: make run (default suite on loopback, writes a report), make test.
GO ?= go
BIN := bin/authbench
OUT ?= out
SCHEMES ?= plain,passphrase
SCENARIO ?= smoke

.PHONY: setup build test run bench lint fuzz clean

setup:
	@bash scripts/setup.sh

build: setup
	$(GO) build -o $(BIN) ./cmd/authbench

test: setup
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) test -race -count=1 -timeout 20m ./...

run: build
	./$(BIN) run -scenario $(SCENARIO) -schemes $(SCHEMES) -out $(OUT)

bench: setup
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

lint: setup
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

clean:
	rm -rf bin $(OUT)
