# Convenience entry points for building, running and testing tailor.
#   make quickstart   install deps (if missing), build, run the quickstart experiment
#   make test         install deps (if missing), build, run the test suite
#   make bench        build with the benchmarks in $(BENCH_DIR), run every bench/*/run.sh
#   make sanitize     build the host, the loader/config/parser tests with ASan+UBSan in
#                     $(SANITIZE_DIR) and run them
#   make fuzz         build the libFuzzer targets with clang in $(FUZZ_DIR), run each for
#                     $(FUZZ_SECONDS) s on a copy of its seed corpus

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

.PHONY: all deps configure build quickstart test bench sanitize fuzz format clean

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

# The sanitizer job: everything that parses input or loads plugins, not the training tests
# (LibTorch itself is not instrumented, so they would add minutes and find nothing of ours).
# -O1 and line tables only (-g1): compiling LibTorch's headers dominates this build.
SANITIZE_DIR ?= build-sanitize
SANITIZE_TESTS ?= config_test checkpoint_test abi_test test_idx_lt test_cifar_lt \
  test_image_common test_image_list test_inaturalist
SANITIZE_ENV = ASAN_OPTIONS=abort_on_error=1:strict_string_checks=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/support/lsan.supp \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

sanitize: deps
	@if [ ! -f $(SANITIZE_DIR)/CMakeCache.txt ]; then \
	  launcher=; \
	  if command -v ccache >/dev/null 2>&1; then launcher=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache; fi; \
	  cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O1 \
	    -DTAILOR_SANITIZE=address,undefined $$launcher; \
	fi
	cmake --build $(SANITIZE_DIR) -j$(JOBS) --target ce $(SANITIZE_TESTS)
	$(SANITIZE_ENV) ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j$(JOBS) \
	  -R '^($(subst $(eval) ,|,$(strip $(SANITIZE_TESTS))))$$'

# libFuzzer targets (clang), each run for FUZZ_SECONDS on its own copy of the committed seed
# corpus (tests/fuzz/corpus/<name>), which keeps what it finds between runs. A crash leaves
# its input in $(FUZZ_DIR)/findings/<name>-*; rerun it with `$(FUZZ_DIR)/tests/fuzz/fuzz_<name> FILE`.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= config checkpoint image_list jpeg idx cifar inaturalist egtea_split

fuzz: deps
	@if [ ! -f $(FUZZ_DIR)/CMakeCache.txt ]; then \
	  launcher=; \
	  if command -v ccache >/dev/null 2>&1; then launcher=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache; fi; \
	  CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DTAILOR_FUZZ=ON -DTAILOR_BUILD_TESTS=OFF $$launcher; \
	fi
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@mkdir -p $(FUZZ_DIR)/findings; status=0; for name in $(FUZZ_TARGETS); do \
	  corpus=$(FUZZ_DIR)/corpus/$$name; mkdir -p $$corpus; cp -n tests/fuzz/corpus/$$name/* $$corpus/; \
	  dict=; [ -f tests/fuzz/$$name.dict ] && dict=-dict=tests/fuzz/$$name.dict; \
	  echo "== fuzz_$$name for $(FUZZ_SECONDS) s"; \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/support/lsan.supp \
	  $(FUZZ_DIR)/tests/fuzz/fuzz_$$name $$corpus $$dict -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/findings/$$name- 2>&1 | grep -v '^#[0-9]' || true; \
	  if ls $(FUZZ_DIR)/findings/$$name-* >/dev/null 2>&1; then \
	    echo "fuzz_$$name: FAILED, inputs in $(FUZZ_DIR)/findings/"; status=1; fi; \
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
