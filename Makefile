# warren: `make demo` shows it working, `make test` checks everything.
# Both may start as root (they prepare the machine, then run warren as
# $(WARREN_TEST_USER)) or as a user that already has the prerequisites.

GO ?= go
STATICCHECK_VERSION := v0.8.2
IMAGES_OUT := tests/images/out
IMAGE_SOURCES := $(wildcard tests/images/*/*.go)

.PHONY: all build images test e2e demo lint clean bench

all: build

# Static, so the binary that re-executes itself as a container's init does not
# depend on the host's libc inside the container's root.
build:
	CGO_ENABLED=0 $(GO) build -o bin/warren ./cmd/warren

images: $(IMAGES_OUT)/busybox.tar

$(IMAGES_OUT)/busybox.tar: $(IMAGE_SOURCES)
	$(GO) run ./tests/images/build -out $(IMAGES_OUT)

test:
	scripts/test.sh

demo:
	scripts/demo.sh

# Side-by-side figures with the rootless peers; writes docs/BENCHMARKS.md.
# Knobs: RUNS DUR N CONNS CONC SCALE CLIENTS (see scripts/bench/bench.sh).
bench:
	scripts/bench/bench.sh

lint:
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

clean:
	rm -rf bin $(IMAGES_OUT)
