# Convenience entry points for building, running and testing tailor.
#   make quickstart   install deps (if missing), build, run the quickstart experiment
#   make test         install deps (if missing), build, run the test suite
#   make bench        build with the benchmarks in $(BENCH_DIR), run every bench/*/run.sh

BUILD_DIR  ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
TAILOR_BIN ?= $(BUILD_DIR)/host/tailor

CCACHE_DIR ?= $(HOME)/.cache/ccache
# Relative paths in the hash let a fresh clone reuse the cache of another checkout;
# the sloppiness settings let ccache cache compilations that use precompiled headers.
CCACHE_BASEDIR ?= $(CURDIR)
CCACHE_SLOPPINESS ?= pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_DIR CCACHE_BASEDIR CCACHE_SLOPPINESS

.PHONY: all deps configure build quickstart test bench format clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@if [ ! -f $(BUILD_DIR)/CMakeCache.txt ]; then \
	  launcher=; \
	  if command -v ccache >/dev/null 2>&1; then \
	    ccache -M 2G >/dev/null 2>&1 || true; \
	    launcher=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache; \
	  fi; \
	  echo cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $$launcher; \
	  cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $$launcher; \
	fi

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

quickstart: build
	$(TAILOR_BIN) run experiments/quickstart.toml

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

BENCH_DIR ?= build-bench

BENCH_PACKAGES = python3-torch python3-torchvision python3-pil python3-numpy python3-av time

bench: deps
	@bash scripts/install-deps.sh $(BENCH_PACKAGES)
	@if [ ! -f $(BENCH_DIR)/CMakeCache.txt ]; then \
	  launcher=; \
	  if command -v ccache >/dev/null 2>&1; then launcher=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache; fi; \
	  cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=Release -DTAILOR_BUILD_BENCH=ON -DTAILOR_BUILD_TESTS=OFF $$launcher; \
	fi
	cmake --build $(BENCH_DIR) -j$(JOBS)
	@status=0; for script in bench/*/run.sh; do \
	  echo "== $$script"; \
	  BUILD=$(BENCH_DIR) bash $$script || status=1; \
	done; exit $$status

format:
	@if command -v clang-format >/dev/null 2>&1; then \
	  find $(wildcard host sdk plugins tests bench) -type f \
	    \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) -print0 | xargs -0 -r clang-format -i; \
	else \
	  echo "clang-format not found; skipping"; \
	fi

clean:
	rm -rf $(BUILD_DIR)
