# The two commands a user needs: `make demo` and `make test`. Everything else is a building block.
JOBS ?= 2
PRESET ?= release
BUILD_DIR := $(if $(filter release,$(PRESET)),build,build-$(PRESET))

.PHONY: all bootstrap configure build test unit-test py-test demo bench format format-check lint fuzz clean image

all: build

bootstrap:
	@scripts/bootstrap

configure:
	@test -f $(BUILD_DIR)/build.ninja || cmake --preset $(PRESET)

build: bootstrap configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

demo: build
	$(BUILD_DIR)/bin/pairflow demo --summary $(BUILD_DIR)/demo_summary.json

bench: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target benches
	@for b in $(BUILD_DIR)/bin/bench_*; do echo "== $$b"; OPENBLAS_NUM_THREADS=1 $$b || exit 1; done
	@echo "== Engle-Granger vs statsmodels, same run (tests/s per core)"
	/usr/bin/python3 bench/stats_statsmodels.py --cpp $(BUILD_DIR)/bin/bench_stats
	@echo "== pairflow screen vs a statsmodels coint loop, same file"
	/usr/bin/python3 bench/screen_statsmodels.py --pairflow $(BUILD_DIR)/bin/pairflow
	@echo "== the Python module against statsmodels: coint_all_pairs 100 x 1000, screen 500 columns"
	PYTHONPATH=$(BUILD_DIR)/python OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/python/bench_python.py
	@echo "== pair discovery on generated universes unlike the demo's, against statsmodels' coint ranking"
	/usr/bin/python3 bench/discovery/harness.py --pairflow $(BUILD_DIR)/bin/pairflow --size bench
	@echo "== generated tick markets end to end: planted pairs traded, false pairs, net P&L"
	/usr/bin/python3 bench/discovery/tick_markets.py --pairflow $(BUILD_DIR)/bin/pairflow
	@echo "== dashboard: pipeline throughput with 0 and 10 WebSocket clients, updates delivered"
	/usr/bin/python3 bench/history/bench_recording.py --pairflow $(BUILD_DIR)/bin/pairflow
	OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/dashboard/bench_dashboard.py --pairflow $(CURDIR)/$(BUILD_DIR)/bin/pairflow
	@echo "== dashboard: page load to the first live update (headless chromium, loopback)"
	cd web && PAIRFLOW_BIN=$(CURDIR)/$(BUILD_DIR)/bin/pairflow node e2e/page_load.bench.mjs

# The container image pairflow:latest (Dockerfile), offline: scripts/image starts dockerd when none
# runs and makes debian:bookworm-slim with debootstrap when no registry has it (docs/deploy.md).
image: bootstrap
	scripts/image

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.h' '*.cc')

# Curated clang-tidy checks (.clang-tidy) over every translation unit of the release build.
lint: build
	run-clang-tidy -quiet -p $(BUILD_DIR) -j $(JOBS) '^$(CURDIR)/(src|bench|tests|fuzz)/'

# libFuzzer targets (clang, ASan, UBSan) in build-fuzz/, each for FUZZ_SECONDS over its corpus in
# fuzz/corpus/NAME (new inputs land there: commit the interesting ones). `make test` replays the
# committed corpora with the ordinary build.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := csv_ticks json_tick binary_codec config pipeline_file table_csv
# The fuzz build holds what pairflow_app links (no CLI, report, embedded interpreters or Python
# module); configured on every run, so a component list that grows reaches an existing build-fuzz.
FUZZ_COMPONENTS := base;model;stream;history;stats;sim;features;screen;pairs;portfolio;exec;fix;engine;ui;jobs;app
fuzz: bootstrap
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPAIRFLOW_FUZZ=ON -DPAIRFLOW_BUILD_TESTS=OFF -DPAIRFLOW_BUILD_BENCH=OFF \
	  -DPAIRFLOW_PYTHON_MODULE=OFF -DPAIRFLOW_WITH_EMBED=OFF -DPAIRFLOW_COMPONENTS="$(FUZZ_COMPONENTS)"
	cmake --build build-fuzz -j $(JOBS)
	@for t in $(FUZZ_TARGETS); do echo "== fuzz_$$t ($(FUZZ_SECONDS) s)"; \
	  build-fuzz/bin/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 fuzz/corpus/$$t || exit 1; done

clean:
	rm -rf build build-debug build-sanitize build-fuzz
