# Thin wrapper over meson; see README.md.
BUILD ?= build
ASAN_BUILD ?= build-asan
DEMO ?= demo-library
MESON_FLAGS ?= --werror

.PHONY: all deps build run test test-unit test-cli test-asan clean bench fixtures

all: build

deps:
	./scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

build: deps $(BUILD)/build.ninja
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

bench: build
	./bench/ingest/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
