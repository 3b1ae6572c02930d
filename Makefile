# Thin wrapper over meson; see README.md.
BUILD ?= build
ASAN_BUILD ?= build-asan
DEMO ?= demo-library
MESON_FLAGS ?= --werror

.PHONY: all deps web build run test test-unit test-cli test-pg test-nodes test-e2e test-asan clean bench fixtures

all: build

deps:
	./scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

# The web UI (web/): npm ci from the committed lock file, then esbuild into
# web/dist, which ninja embeds into the binary. Each step runs only when its
# inputs changed.
WEB_SRC := $(shell find web/src -type f 2>/dev/null) web/build.mjs

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm (Node.js 20+) is needed to build the web UI" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund
	touch $@

web/dist/.stamp: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && node build.mjs

web: web/dist/.stamp

build: deps web $(BUILD)/build.ninja
	ninja -C $(BUILD)

fixtures: build
	./tests/gen-fixtures.sh $(BUILD)/fixtures

run: build
	./scripts/run-demo.sh $(BUILD) $(DEMO)

test: build fixtures
	./scripts/test.sh $(BUILD) $(ASAN_BUILD)

test-unit: build fixtures
	meson test -C $(BUILD) --suite unit --print-errorlogs

test-cli: build fixtures
	DAM=$(BUILD)/dam FIXTURES=$(BUILD)/fixtures ./tests/cli/run.sh

# The db unit tests on a throwaway PostgreSQL cluster (scripts/pg.sh), and
# dam serve while that database goes down and comes back.
test-pg: build fixtures
	BUILD=$(BUILD) ./tests/pg/run.sh
	BUILD=$(BUILD) FIXTURES=$(BUILD)/fixtures ./tests/pg/db_down.sh

# Two serve nodes and two workers on one PostgreSQL and one RGW bucket.
test-nodes: build fixtures
	BUILD=$(BUILD) FIXTURES=$(BUILD)/fixtures ./tests/nodes/run.sh

test-e2e: build fixtures
	DAM=$(BUILD)/dam FIXTURES=$(BUILD)/fixtures ./tests/e2e/run.sh

bench: build
	./bench/ingest/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) web/dist
